"""The command's exit statuses."""

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2  # done · the data does not conform · the input cannot be used
