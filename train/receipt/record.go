// Package receipt binds the proofs of a training run to the run itself.
//
// Nothing in a Pearl plain proof says where its matrices came from: it
// commits to exactly one pair of int7 operands (the Merkle roots of A and Bᵀ
// feed the seeds), and that is all. A receipt is the missing link, written
// while the model trains: the run's identity (model structure, dataset
// files, seeds, build, kernel, job), every training step (its batch and its
// loss), every mined product (node, role, shape and the two commitment
// roots, and the proofs it won) and checkpoints of the weights, each record
// chained to the one before by its SHA-256, so that no record can be
// edited, dropped or reordered unnoticed.
//
// Audit checks a receipt and the proofs beside it without any model code:
// the chain, that every proof verifies and is a recorded product of the
// run, that the checkpoints are the files the receipt names and that the
// weight operands re-quantised from them give the recorded roots, and, at
// sampled steps, that the first layer's input rebuilt from the declared
// dataset and the recorded batch gives its recorded root. A full replay of
// sampled steps, every product of the forward and the backward pass bit
// for bit, needs the model: examples/mnist -audit does it with Open.
//
// What a receipt proves: these proofs are products of training this model
// on this data, from these weights, at these steps. What it cannot prove:
// that the training was worth doing.
//
// The receipt is a file of JSON lines, FileName, in the proof directory;
// checkpoints are files under CheckpointDir beside it.
package receipt

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/usefulwork/minedmatmul/pouw"
)

// FileName is the receipt's file name in its directory.
const FileName = "receipt.jsonl"

// CheckpointDir is the directory, beside the receipt, of its checkpoints.
const CheckpointDir = "checkpoints"

// Version is the receipt format this package writes and reads.
const Version = 1

// Record is one line of a receipt. Seq counts from 0; Prev is the hex
// SHA-256 of the previous line's bytes (without its newline), and 64 zeros
// for the first. Exactly one of the payloads is set, named by Kind.
type Record struct {
	Seq  int64  `json:"seq"`
	Prev string `json:"prev"`
	Kind string `json:"kind"`

	Run        *Run        `json:"run,omitempty"`
	Job        *pouw.Job   `json:"job,omitempty"` // the job of the products after it
	Step       *Step       `json:"step,omitempty"`
	Product    *Product    `json:"product,omitempty"`
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	End        *End        `json:"end,omitempty"`
}

// The record kinds.
const (
	KindRun        = "run"
	KindJob        = "job"
	KindStep       = "step"
	KindProduct    = "product"
	KindCheckpoint = "checkpoint"
	KindEnd        = "end"
)

// Run is the first record: what was trained, on what, how.
type Run struct {
	Version int               `json:"version"`
	Model   Model             `json:"model"`
	Dataset Dataset           `json:"dataset"`
	Batch   int               `json:"batch"`
	Seeds   map[string]uint64 `json:"seeds"`   // e.g. "weights", "shuffle", "rounding"
	Program []string          `json:"program"` // the command line, for a replay
	Module  string            `json:"module"`  // main module path and version
	Go      string            `json:"go"`
	Kernel  string            `json:"kernel"`
	Profile string            `json:"profile"`
	Started string            `json:"started"` // RFC 3339
}

// Model is the structure of the trained graph.
type Model struct {
	Name string `json:"name"`
	// Digest is the hex SHA-256 of the graph's structure: every node's
	// ID, op, type, shape and children (Describe).
	Digest     string        `json:"digest"`
	Input      Tensor        `json:"input"` // the node a batch of the dataset's features is bound to
	Learnables []Tensor      `json:"learnables"`
	Products   []ProductNode `json:"products"` // the mined product nodes
}

// Tensor names a learnable and its shape.
type Tensor struct {
	Name  string `json:"name"`
	Dtype string `json:"dtype"`
	Shape []int  `json:"shape"`
}

// ProductNode is a mined product node: op(Inputs[0])·op(Inputs[1]).
type ProductNode struct {
	Name   string    `json:"name"`
	Kind   string    `json:"kind"` // matmul, matvec, vecdot
	TransA bool      `json:"trans_a"`
	TransB bool      `json:"trans_b"`
	Role   string    `json:"role"`
	Inputs [2]string `json:"inputs"` // the names of its operand nodes
}

// Dataset identifies the training data by its files' contents.
type Dataset struct {
	Name string `json:"name"` // e.g. "mnist": how Audit reads it
	// Transform says how an example becomes the input's features, e.g.
	// "u8/255": bytes scaled to [0, 1] in float32.
	Transform string `json:"transform"`
	Files     []File `json:"files"`
	Train     int    `json:"train"` // examples used for training
	Test      int    `json:"test"`  // examples used for the test accuracy
}

// File is a data file by name and content hash.
type File struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Step is one training step.
type Step struct {
	Step  int64 `json:"step"` // 1, 2, … over the whole run
	Epoch int   `json:"epoch"`
	// Weights is how many updates the weights had had when the step ran
	// (its products used that version).
	Weights int64 `json:"weights"`
	// Batch is the indices of the step's examples, as little-endian
	// uint32s in standard base64.
	Batch string  `json:"batch"`
	Loss  float64 `json:"loss"`
}

// Product is one mined product.
type Product struct {
	Step    int64  `json:"step"`
	Weights int64  `json:"weights"`
	Eval    bool   `json:"eval,omitempty"` // computed while evaluating, not training
	Node    string `json:"node"`
	Role    string `json:"role"`
	M       int    `json:"m"`
	K       int    `json:"k"`
	N       int    `json:"n"`
	Config  string `json:"config"` // hex of the 52-byte mining configuration
	// RootA and RootB are the hex commitment roots of A and Bᵀ, keyed by
	// the job's header and the configuration.
	RootA  string   `json:"root_a"`
	RootB  string   `json:"root_b"`
	Proofs []string `json:"proofs,omitempty"` // IDs of the proofs it won
}

// Checkpoint names a checkpoint file of the weights by its hash.
type Checkpoint struct {
	Weights int64  `json:"weights"` // updates applied: 0 is the initial weights
	File    string `json:"file"`    // relative to the receipt's directory
	SHA256  string `json:"sha256"`
}

// End closes a run.
type End struct {
	Steps        int64   `json:"steps"`
	Weights      int64   `json:"weights"`
	TestAccuracy float64 `json:"test_accuracy"` // after the last epoch, from the final weights
	Proofs       int     `json:"proofs"`
}

// zeroHash is Prev of the first record.
var zeroHash = hex.EncodeToString(make([]byte, sha256.Size))

// lineHash is the chain hash of one line.
func lineHash(line []byte) string {
	h := sha256.Sum256(line)
	return hex.EncodeToString(h[:])
}
