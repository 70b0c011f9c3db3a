"""Member municipalities of the joint authority; each pays for its own residents."""
