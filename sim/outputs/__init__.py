"""What a run leaves and who reads it: the KPI registry, metrics, the results folder, replications
statistics, plots, the report and the comparison of folders."""
