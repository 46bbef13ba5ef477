"""All of intake's SQL, one module per area (customers, tickets, channels)."""
