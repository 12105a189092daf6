//! Injected faults: throttling and internal errors for chosen calls, latency,
//! and distributions that fail or never finish.

use std::time::Duration;

use super::operations::OPERATIONS;

/// Faults for the emulator to inject. The default injects none.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Respond to the first N calls, of any operation, with ThrottlingException (HTTP 400).
    pub throttle_first: u32,
    /// Respond to the N calls after the throttled ones with InternalServerError (HTTP 500).
    pub error_500_first: u32,
    /// Per-operation faults, checked before the two counters above.
    pub rules: Vec<FaultRule>,
    /// Delay before every response, errors included.
    pub latency: Duration,
    /// DistributeDatasetEntries ends with both datasets `UPDATE_FAILED`
    /// (StatusMessageCode `CLIENT_ERROR`) and no entries moved.
    pub fail_distribution: bool,
    /// Creates, updates and distributions stay `*_IN_PROGRESS` for good.
    pub never_complete: bool,
}

/// A rule "respond to `operation` with `fault`, `times` times".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// An `X-Amz-Target` operation name such as `DescribeDataset`.
    pub operation: String,
    pub fault: Fault,
    pub times: Times,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// ThrottlingException with HTTP 400, which SDKs retry with backoff.
    Throttle,
    /// InternalServerError with HTTP 500, which SDKs retry as transient.
    InternalError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// The next N calls of the operation.
    First(u32),
    Always,
}

impl FaultRule {
    pub fn new(operation: impl Into<String>, fault: Fault, times: Times) -> FaultRule {
        FaultRule { operation: operation.into(), fault, times }
    }

    /// Parses `OPERATION:throttle|500[:COUNT|always]`, where the count
    /// defaults to `always`. The error names what is wrong with `text`.
    pub fn parse(text: &str) -> Result<FaultRule, String> {
        let mut parts = text.split(':');
        let operation = parts.next().unwrap_or_default();
        if !OPERATIONS.contains(&operation) {
            return Err(format!("unknown operation `{operation}`; expected one of {}", OPERATIONS.join(", ")));
        }
        let fault = match parts.next() {
            Some("throttle") => Fault::Throttle,
            Some("500") => Fault::InternalError,
            Some(other) => return Err(format!("unknown fault `{other}`; expected `throttle` or `500`")),
            None => return Err("missing the fault after the operation; expected `throttle` or `500`".into()),
        };
        let times = match parts.next() {
            None | Some("always") => Times::Always,
            Some(count) => Times::First(count.parse().map_err(|_| format!("invalid count `{count}`; expected a whole number or `always`"))?),
        };
        if let Some(extra) = parts.next() {
            return Err(format!("unexpected `:{extra}` after the count"));
        }
        Ok(FaultRule::new(operation, fault, times))
    }
}

impl Fault {
    /// Returns the `__type` code, HTTP status and message of the error response.
    pub fn error(self) -> (&'static str, u16, &'static str) {
        match self {
            Fault::Throttle => ("ThrottlingException", 400, "Rate exceeded (injected by the emulator)"),
            Fault::InternalError => ("InternalServerError", 500, "Internal server error (injected by the emulator)"),
        }
    }
}

/// The counters left of [`Faults`] while the emulator runs.
#[derive(Debug)]
pub struct FaultPlan {
    throttle_left: u32,
    error_500_left: u32,
    rules: Vec<FaultRule>,
}

impl FaultPlan {
    pub fn new(faults: &Faults) -> FaultPlan {
        FaultPlan { throttle_left: faults.throttle_first, error_500_left: faults.error_500_first, rules: faults.rules.clone() }
    }

    /// Decides the fault for the next call of `operation`, if any, and
    /// counts it.
    pub fn next(&mut self, operation: &str) -> Option<Fault> {
        for rule in self.rules.iter_mut().filter(|rule| rule.operation == operation) {
            match &mut rule.times {
                Times::Always => return Some(rule.fault),
                Times::First(left) if *left > 0 => {
                    *left -= 1;
                    return Some(rule.fault);
                }
                Times::First(_) => {}
            }
        }
        if self.throttle_left > 0 {
            self.throttle_left -= 1;
            return Some(Fault::Throttle);
        }
        if self.error_500_left > 0 {
            self.error_500_left -= 1;
            return Some(Fault::InternalError);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_text_parses() {
        let cases = [
            ("DescribeDataset:throttle:2", Ok(FaultRule::new("DescribeDataset", Fault::Throttle, Times::First(2)))),
            ("DistributeDatasetEntries:500", Ok(FaultRule::new("DistributeDatasetEntries", Fault::InternalError, Times::Always))),
            ("DistributeDatasetEntries:500:always", Ok(FaultRule::new("DistributeDatasetEntries", Fault::InternalError, Times::Always))),
        ];
        for (text, expected) in cases {
            assert_eq!(FaultRule::parse(text), expected, "{text}");
        }
    }

    #[test]
    fn rule_text_errors_name_the_part() {
        let cases = [
            ("Describe:throttle", "unknown operation `Describe`"),
            ("DescribeDataset", "missing the fault"),
            ("DescribeDataset:404", "unknown fault `404`"),
            ("DescribeDataset:500:twice", "invalid count `twice`"),
            ("DescribeDataset:500:1:2", "unexpected `:2`"),
        ];
        for (text, expected) in cases {
            let error = FaultRule::parse(text).unwrap_err();
            assert!(error.starts_with(expected), "{text}: {error}");
        }
    }

    #[test]
    fn counters_run_in_order() {
        let faults = Faults { throttle_first: 2, error_500_first: 1, ..Faults::default() };
        let mut plan = FaultPlan::new(&faults);
        let seen: Vec<_> = (0..5).map(|_| plan.next("DescribeDataset")).collect();
        assert_eq!(seen, vec![Some(Fault::Throttle), Some(Fault::Throttle), Some(Fault::InternalError), None, None]);
    }

    #[test]
    fn rules_match_their_operation() {
        let faults = Faults {
            rules: vec![
                FaultRule::new("DistributeDatasetEntries", Fault::InternalError, Times::Always),
                FaultRule::new("DescribeDataset", Fault::Throttle, Times::First(1)),
            ],
            ..Faults::default()
        };
        let mut plan = FaultPlan::new(&faults);
        assert_eq!(plan.next("DescribeDataset"), Some(Fault::Throttle));
        assert_eq!(plan.next("DescribeDataset"), None);
        assert_eq!(plan.next("DistributeDatasetEntries"), Some(Fault::InternalError));
        assert_eq!(plan.next("DistributeDatasetEntries"), Some(Fault::InternalError));
        assert_eq!(plan.next("ListDatasetLabels"), None);
    }
}
