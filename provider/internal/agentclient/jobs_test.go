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

	"hvmigrate/provider/internal/agentclient"
	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
	"hvmigrate/shared/ipc"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/units"
)

// classAgent answers every transfer call with a canned error or job.
type classAgent struct {
	agentv1.UnimplementedAgentServiceServer
	reason agentv1.ErrorReason
}

func (a *classAgent) StartInitialCopy(_ context.Context, req *agentv1.StartInitialCopyRequest) (*agentv1.StartInitialCopyResponse, error) {
	if req.GetTargetUrl() != "https://x/c/b?sig=s" || req.GetThreads() != 3 {
		return nil, status.Error(codes.InvalidArgument, "request not passed through")
	}
	st, _ := status.New(codes.FailedPrecondition, "copy refused").WithDetails(&errdetails.ErrorInfo{Reason: a.reason.String(), Domain: "agent.hvmigrate"})
	return nil, st.Err()
}

func (a *classAgent) ListJobs(context.Context, *agentv1.ListJobsRequest) (*agentv1.ListJobsResponse, error) {
	return &agentv1.ListJobsResponse{Jobs: []*agentv1.JobProgress{{JobId: "j1", State: agentv1.JobState_JOB_STATE_FAILED,
		Kind: agentv1.JobKind_JOB_KIND_CYCLE_UPLOAD, Cycle: 7, BytesSent: 10, EtaSeconds: -1,
		Error: "log not closed", ErrorReason: a.reason}}}, nil
}

func (a *classAgent) WatchJob(*agentv1.WatchJobRequest, agentv1.AgentService_WatchJobServer) error {
	return status.Error(codes.NotFound, "no job")
}

func (a *classAgent) SetThrottle(_ context.Context, req *agentv1.SetThrottleRequest) (*agentv1.SetThrottleResponse, error) {
	return &agentv1.SetThrottleResponse{Settings: req.GetSettings(), InForce: req.GetSettings().GetWorkHours()}, nil
}

func serveClass(t *testing.T, reason agentv1.ErrorReason) *agentclient.Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "hvmcls")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	lis, err := ipc.Listen(filepath.Join(dir, "run", "a.sock"))
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	agentv1.RegisterAgentServiceServer(g, &classAgent{reason: reason})
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	c, err := agentclient.Dial(filepath.Join(dir, "run", "a.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClient_transferErrors_mapToClasses(t *testing.T) {
	rows := []struct {
		reason agentv1.ErrorReason
		want   error
	}{
		{agentv1.ErrorReason_ERROR_REASON_SOURCE_CORRUPT, agentclient.ErrSourceCorrupt},
		{agentv1.ErrorReason_ERROR_REASON_SOURCE_MISSING, agentclient.ErrSourceMissing},
		{agentv1.ErrorReason_ERROR_REASON_STORAGE_AUTH, agentclient.ErrStorageAuth},
		{agentv1.ErrorReason_ERROR_REASON_STORAGE_UNAVAILABLE, agentclient.ErrStorageUnavailable},
		{agentv1.ErrorReason_ERROR_REASON_JOB_CONFLICT, agentclient.ErrJobConflict},
		{agentv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT, agentclient.ErrInvalidArgument},
	}
	for _, tt := range rows {
		t.Run(tt.reason.String(), func(t *testing.T) {
			c := serveClass(t, tt.reason)
			ctx := context.Background()
			_, err := c.StartInitialCopy(ctx, agentclient.InitialCopy{JobID: "j", Target: secret.New("https://x/c/b?sig=s"), Threads: 3})
			if !errors.Is(err, tt.want) {
				t.Fatalf("start: %v, want %v", err, tt.want)
			}
			jobs, err := c.ListJobs(ctx, "")
			if err != nil || len(jobs) != 1 {
				t.Fatalf("list: %v %v", jobs, err)
			}
			j := jobs[0]
			if j.State != agentclient.JobFailed || !j.State.Final() || j.Cycle != 7 || j.Kind != "cycle_upload" || j.ETA >= 0 || !errors.Is(j.Err, tt.want) {
				t.Fatalf("job %+v", j)
			}
		})
	}
}

func TestClient_WatchJob_unknownJobAndThrottleRoundTrip(t *testing.T) {
	c := serveClass(t, agentv1.ErrorReason_ERROR_REASON_UNSPECIFIED)
	ctx := context.Background()
	if _, err := c.WatchJob(ctx, "nope", nil); !errors.Is(err, agentclient.ErrJobNotFound) {
		t.Fatalf("watch of an unknown job: %v", err)
	}
	in := agentclient.Throttle{WorkHours: 8 * units.Mbps, NonWorkHours: units.Unlimited, WorkDays: nil,
		WorkStart: "08:00", WorkEnd: "18:00", TimeZone: "Europe/Berlin", ThreadsPerVM: 8}
	got, inForce, err := c.SetThrottle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.WorkHours != in.WorkHours || got.NonWorkHours != units.Unlimited || got.TimeZone != in.TimeZone || got.ThreadsPerVM != 8 || inForce != 8*units.Mbps {
		t.Fatalf("throttle %+v in force %s", got, inForce)
	}
}
