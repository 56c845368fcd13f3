"""What people and clients read: a resource's description, the policy-tracking views, the vocabulary, terminal tables."""
