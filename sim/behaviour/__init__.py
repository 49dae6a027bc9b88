"""The sub-models, one module each: adoption, remote days, schedule, mode choice, traffic, commute,
emissions, wellbeing. Each owns its rules and the levers that act on it."""
