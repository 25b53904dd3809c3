//! Metrics from a step's stdout (LANGUAGE.md, "Metrics").
//!
//! A declared metric `accuracy` is reported by a stdout line `accuracy=0.97`
//! or `accuracy: 0.97`: spaces around the separator and around the line are
//! allowed, the name must match exactly (case included), the value is the
//! rest of the line. Every line of the whole stdout is looked at and the last
//! number wins. A value that is not a finite number (`accuracy=high`) is
//! ignored with a warning; a metric never printed is missing, not zero.

/// Collects declared metrics line by line.
#[derive(Debug, Clone)]
pub(crate) struct Collector {
    names: Vec<String>,
    values: Vec<Option<f64>>,
    /// The last text printed for each that was not a finite number.
    rejected: Vec<Option<String>>,
}

/// What one line said about a metric.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reading {
    /// `name=value` with a number: recorded.
    Value {
        /// The metric.
        name: String,
        /// Its value.
        value: f64,
    },
    /// `name=value` where the value is not a number: ignored, worth a warning.
    NotANumber {
        /// The metric.
        name: String,
        /// What was printed.
        text: String,
    },
}

impl Collector {
    /// A collector for the declared names.
    pub(crate) fn new(names: impl IntoIterator<Item = String>) -> Collector {
        let names: Vec<String> = names.into_iter().collect();
        let values = vec![None; names.len()];
        let rejected = vec![None; names.len()];
        Collector {
            names,
            values,
            rejected,
        }
    }

    /// Looks at one stdout line (without its newline).
    pub(crate) fn line(&mut self, line: &str) -> Option<Reading> {
        if self.names.is_empty() {
            return None;
        }
        let line = line.trim();
        for (i, name) in self.names.iter().enumerate() {
            let Some(rest) = line.strip_prefix(name.as_str()) else {
                continue;
            };
            let rest = rest.trim_start();
            let Some(value) = rest.strip_prefix(['=', ':']) else {
                continue;
            };
            let text = value.trim();
            return Some(match parse_number(text) {
                Some(value) => {
                    self.values[i] = Some(value);
                    Reading::Value {
                        name: name.clone(),
                        value,
                    }
                }
                None => {
                    self.rejected[i] = Some(text.to_string());
                    Reading::NotANumber {
                        name: name.clone(),
                        text: text.to_string(),
                    }
                }
            });
        }
        None
    }

    /// Every declared metric with its last value (`None`: missing).
    pub(crate) fn values(&self) -> Vec<(String, Option<f64>)> {
        self.names
            .iter()
            .cloned()
            .zip(self.values.clone())
            .collect()
    }
}

impl Collector {
    /// Every metric printed at least once as something that is not a finite
    /// number (`inf`, `nan`, `high`), with the last such text.
    pub(crate) fn rejected(&self) -> Vec<(String, String)> {
        self.names
            .iter()
            .zip(&self.rejected)
            .filter_map(|(name, text)| Some((name.clone(), text.clone()?)))
            .collect()
    }
}

fn parse_number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_separators_spaces_and_last_wins() {
        let mut c = Collector::new(["Train-accuracy".to_string(), "loss".to_string()]);
        c.line("Train-accuracy=0.5");
        c.line("  Train-accuracy :  0.97  ");
        c.line("loss: 1e-3");
        c.line("Train-accuracy-top5=0.99");
        c.line("train-accuracy=0.1");
        assert_eq!(
            c.values(),
            [
                ("Train-accuracy".to_string(), Some(0.97)),
                ("loss".to_string(), Some(0.001))
            ]
        );
    }

    #[test]
    fn missing_is_not_zero_and_words_are_not_numbers() {
        let mut c = Collector::new(["accuracy".to_string(), "f1".to_string()]);
        assert_eq!(
            c.line("accuracy=0.9"),
            Some(Reading::Value {
                name: "accuracy".into(),
                value: 0.9
            })
        );
        assert_eq!(
            c.line("accuracy=high"),
            Some(Reading::NotANumber {
                name: "accuracy".into(),
                text: "high".into()
            })
        );
        assert!(matches!(
            c.line("accuracy=nan"),
            Some(Reading::NotANumber { .. })
        ));
        assert_eq!(c.line("accuracy is fine"), None);
        assert_eq!(c.rejected(), [("accuracy".to_string(), "nan".to_string())]);
        assert_eq!(
            c.values(),
            [
                ("accuracy".to_string(), Some(0.9)),
                ("f1".to_string(), None)
            ]
        );
    }
}
