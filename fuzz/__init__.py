"""Coverage-guided fuzzing of every parser of the driver (atheris); see fuzz/README.md."""
