//! CEL conditions over the facts model.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

/// The reason a condition did not produce a boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum Undecided {
    /// The condition read a fact that is not known.
    MissingFact(String),
    /// The condition failed for another reason (a type mismatch, say).
    Failed(String),
}

pub fn compile(text: &str) -> Result<cel::Program, cel::ParseErrors> {
    cel::Program::compile(text)
}

/// Runs a condition with every top-level fact as a variable.
pub fn execute(program: &cel::Program, model: &Map<String, Value>) -> Result<bool, Undecided> {
    let mut context = cel::Context::default();
    for (name, value) in model {
        context.add_variable_from_value(name.clone(), to_cel(value));
    }
    match program.execute(&context) {
        Ok(cel::Value::Bool(result)) => Ok(result),
        Ok(other) => Err(Undecided::Failed(format!("the condition returned {other:?}, not a boolean"))),
        Err(cel::ExecutionError::NoSuchKey(key)) => Err(Undecided::MissingFact(key.to_string())),
        Err(error) => Err(Undecided::Failed(error.to_string())),
    }
}

/// Converts JSON to CEL, keeping whole numbers as `int` so that conditions
/// such as `test.total_entries == 0` compare like with like.
fn to_cel(value: &Value) -> cel::Value {
    match value {
        Value::Null => cel::Value::Null,
        Value::Bool(flag) => cel::Value::Bool(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(whole) => cel::Value::Int(whole),
            None => cel::Value::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => cel::Value::String(Arc::new(text.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(fields) => {
            let map: HashMap<String, cel::Value> = fields.iter().map(|(key, value)| (key.clone(), to_cel(value))).collect();
            cel::Value::from(map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(fields) => fields,
            _ => Map::new(),
        }
    }

    #[test]
    fn whole_numbers_compare_as_int() {
        let program = compile("test.total_entries == 0 && train.total_entries > 0").unwrap();
        let facts = model(json!({"test": {"total_entries": 0}, "train": {"total_entries": 120}}));
        assert_eq!(execute(&program, &facts), Ok(true));
    }

    #[test]
    fn missing_fact_is_undecided() {
        let program = compile("test.total_entries == 0").unwrap();
        let facts = model(json!({"test": {"arn": "x"}}));
        assert_eq!(execute(&program, &facts), Err(Undecided::MissingFact("total_entries".into())));
    }

    #[test]
    fn non_boolean_result_is_undecided() {
        let program = compile("test.total_entries").unwrap();
        let facts = model(json!({"test": {"total_entries": 3}}));
        assert!(matches!(execute(&program, &facts), Err(Undecided::Failed(_))));
    }
}
