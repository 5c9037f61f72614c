"""Wire contracts: work and outcome messages, CloudEvents. Small, versioned, credential-free."""
