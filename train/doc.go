// Package train is the training loop around a Gorgonia graph whose matrix
// products are mined: batches in, solver steps, evaluation, a progress bar per
// epoch, and a run summary a user can trust. Proofs go to disk through a
// pouw.ProofWriter; package train/plot draws a run.
//
// The pieces are independent: Summary only needs a pouw.Miner, Progress only
// an io.Writer, and Run ties them to a Model. Adam is a drop-in for
// gorgonia's AdamSolver that computes the same weights in a fraction of the
// time.
package train
