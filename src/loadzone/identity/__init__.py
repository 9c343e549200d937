"""Who people are: accounts, sign-in modes, sessions, tokens and permissions."""
