"""What people and clients read: a resource's description, policy-tracking views, the vocabulary, terminal tables."""
