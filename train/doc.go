// Package train is the training loop around a Gorgonia graph whose matrix
// products are mined: batches in, solver steps, evaluation, a progress bar per
// epoch, a sink that writes every proof found to disk, and a run summary and
// plot a user can trust.
//
// The pieces are independent: ProofSink and Summary only need a pouw.Miner,
// Progress only an io.Writer, and Run ties them to a Model.
package train
