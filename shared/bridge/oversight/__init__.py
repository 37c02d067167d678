"""What an operator looks at (floor 4, beside `bridge.operations`): one record's journal, the
system's status. Each function takes its ports and returns a report; printing is the commands'."""
