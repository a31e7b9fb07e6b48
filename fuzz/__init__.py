"""Coverage-guided fuzzing of every parser of device and partner input (``make fuzz``)."""
