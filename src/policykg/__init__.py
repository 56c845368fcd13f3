"""policykg: a policy-tracking knowledge graph for European cultural-heritage policy."""
