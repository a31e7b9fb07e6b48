"""Access: who may do what, when (grants and their hours, the policy that reads them)."""
