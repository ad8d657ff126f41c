//! Evaluation metrics (work in progress).
