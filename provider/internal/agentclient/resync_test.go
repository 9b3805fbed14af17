package agentclient_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"hvmigrate/provider/internal/agentclient"
	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
	"hvmigrate/shared/ipc"
	"hvmigrate/shared/secret"
)

// resyncAgent checks the request it gets and answers with a job, or with
// a conflict for a second call.
type resyncAgent struct {
	agentv1.UnimplementedAgentServiceServer
	want  *agentv1.StartResyncUploadRequest
	calls int
}

func (a *resyncAgent) StartResyncUpload(_ context.Context, req *agentv1.StartResyncUploadRequest) (*agentv1.StartResyncUploadResponse, error) {
	a.calls++
	if !proto.Equal(req, a.want) {
		return nil, status.Errorf(codes.InvalidArgument, "request not passed through: %v", req)
	}
	if a.calls > 1 {
		st, _ := status.New(codes.AlreadyExists, "conflict").WithDetails(&errdetails.ErrorInfo{
			Reason: agentv1.ErrorReason_ERROR_REASON_JOB_CONFLICT.String(), Domain: "agent.hvmigrate"})
		return nil, st.Err()
	}
	return &agentv1.StartResyncUploadResponse{Job: &agentv1.JobProgress{JobId: req.GetJobId(), Kind: agentv1.JobKind_JOB_KIND_RESYNC_UPLOAD,
		State: agentv1.JobState_JOB_STATE_RUNNING, Cycle: req.GetCycle(), BytesTotal: 4096, EtaSeconds: -1}}, nil
}

func TestClient_StartResyncUpload_passesRangesAndMapsErrors(t *testing.T) {
	dir, err := os.MkdirTemp("", "hvmrsy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	lis, err := ipc.Listen(filepath.Join(dir, "run", "a.sock"))
	if err != nil {
		t.Fatal(err)
	}
	a := &resyncAgent{want: &agentv1.StartResyncUploadRequest{JobId: "rs", VmId: "vm", DiskId: "d", DiskPath: "/f.avhdx",
		Cycle: 9, PreviousCycle: 8, TargetUrl: "https://x/c/b?sig=s", Threads: 2,
		Ranges: []*agentv1.DiskRange{{Offset: 0, Length: 4096}, {Offset: 65536, Length: 512, Zero: true}}}}
	g := grpc.NewServer()
	agentv1.RegisterAgentServiceServer(g, a)
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	c, err := agentclient.Dial(filepath.Join(dir, "run", "a.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	spec := agentclient.ResyncUpload{JobID: "rs", VMID: "vm", DiskID: "d", DiskPath: "/f.avhdx", Cycle: 9, Previous: 8,
		Ranges: []agentclient.Range{{Offset: 0, Length: 4096}, {Offset: 65536, Length: 512, Zero: true}},
		Target: secret.New("https://x/c/b?sig=s"), Threads: 2}
	j, err := c.StartResyncUpload(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if j.Kind != "resync_upload" || j.State != agentclient.JobRunning || j.Cycle != 9 || j.BytesTotal != 4096 {
		t.Fatalf("job %+v", j)
	}
	if _, err := c.StartResyncUpload(context.Background(), spec); !errors.Is(err, agentclient.ErrJobConflict) {
		t.Fatalf("second start: %v, want ErrJobConflict", err)
	}
}
