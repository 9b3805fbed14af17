package ctl

import (
	"time"

	"github.com/spf13/cobra"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// projectJSON is a project in -o json output.
type projectJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	CreatedAt *time.Time `json:"created_at"`
}

func projectOut(p *adminv1.Project) projectJSON {
	return projectJSON{ID: p.GetId(), Name: p.GetName(), CreatedAt: timeOrNil(p.GetCreatedUnix())}
}

func newProjectCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "project", Short: "Create and list migration projects"}
	cmd.AddCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create a project",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := call(o, cmd.Context(), args[0], adminv1.AdminServiceClient.CreateProject, &adminv1.CreateProjectRequest{Name: args[0]})
			if err != nil {
				return err
			}
			p := resp.GetProject()
			t := &table{header: []string{"ID", "NAME", "CREATED"}}
			t.add(p.GetId(), p.GetName(), when(p.GetCreatedUnix()))
			return o.emit(cmd.OutOrStdout(), projectOut(p), t)
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := call(o, cmd.Context(), "", adminv1.AdminServiceClient.ListProjects, &adminv1.ListProjectsRequest{})
			if err != nil {
				return err
			}
			t := &table{header: []string{"ID", "NAME", "CREATED"}}
			out := []projectJSON{}
			for _, p := range resp.GetProjects() {
				t.add(p.GetId(), p.GetName(), when(p.GetCreatedUnix()))
				out = append(out, projectOut(p))
			}
			return o.emit(cmd.OutOrStdout(), out, t)
		},
	})
	return cmd
}
