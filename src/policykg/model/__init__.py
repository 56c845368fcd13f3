"""The model as files and what is loaded from them: the graphs, bulk loading, competency questions, synthetic data."""
