"""The Python side of each workflow: definitions, task functions, input models, execution naming."""
