enum _PlaceholderVerifier {}
