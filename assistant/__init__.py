"""Promise Assistant: grounded answers from the notes of learning events about The Promise."""
