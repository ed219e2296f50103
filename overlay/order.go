package overlay

// ComparePaths orders "/"-rooted paths as Walk and Diff list them: depth
// first, a parent before its children, "/a/b" before "/a-b".
func ComparePaths(a, b string) int { return comparePaths(a, b) }
