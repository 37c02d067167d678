"""What each HTTP route reads besides the event: its credentials check and its strict body model
(the Lambda handlers in `functions/` stay thin; the flows never see raw requests)."""
