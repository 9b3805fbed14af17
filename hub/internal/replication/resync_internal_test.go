package replication

import "testing"

func TestSplitRuns_boundsEachPart(t *testing.T) {
	var runs []chunkRun
	for i := range int64(7) {
		runs = append(runs, chunkRun{Start: i * 2 << 16, End: i*2<<16 + 1<<16, Zero: i == 3})
	}
	parts := splitRuns(runs, 3)
	if len(parts) != 3 || len(parts[0]) != 3 || len(parts[1]) != 3 || len(parts[2]) != 1 {
		t.Fatalf("parts of %d, %v", len(parts), parts)
	}
	if g := parts[1][0]; g.Offset != 3*2<<16 || g.Length != 1<<16 || !g.Zero {
		t.Fatalf("fourth range %+v", g)
	}
	if empty := splitRuns(nil, 3); len(empty) != 1 || len(empty[0]) != 0 {
		t.Fatalf("no runs gave %v, want one empty part", empty)
	}
}
