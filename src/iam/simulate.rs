//! PLACEHOLDER: the IAM evaluator work fills this in.
