//! `grader-faulty`: a grade plugin that misbehaves as its config's `mode`
//! says, so the evaluate tests can show a bad grader hurts only the
//! results it grades: `trap`, `loop` (past the plugin deadline), `memory`
//! (past the memory cap), `nan` and `two` (scores the host must refuse),
//! `invalid` (refuses the input); anything else passes with score 1.

use promptsculptor_sdk::prelude::*;

struct Faulty;

#[allow(clippy::panic)]
impl GradePlugin for Faulty {
    fn manifest() -> Manifest {
        Manifest::new(
            "grader-faulty",
            "0.1.0",
            "Misbehaves on request (tests only).",
        )
    }

    fn grade(request: GradeRequest) -> Result<GradeResult, PluginError> {
        let config = request.config_value()?;
        let mode = config.get("mode").and_then(|m| m.as_str()).unwrap_or("ok");
        let scored = |score: f64| GradeResult {
            pass: true,
            score,
            reason: format!("mode {mode}"),
        };
        match mode {
            "trap" => panic!("grader-faulty was told to trap"),
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 * 1024 * 1024]);
                    std::hint::black_box(&hoard);
                }
            }
            "nan" => Ok(scored(f64::NAN)),
            "two" => Ok(scored(2.0)),
            "invalid" => Err(PluginError::invalid_input(
                "grader-faulty refuses this input",
            )),
            _ => Ok(scored(1.0)),
        }
    }
}

export_grade!(Faulty);
