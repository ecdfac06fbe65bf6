package prefect

import (
	"strings"
	"testing"
)

func TestIsCloudURL(t *testing.T) {
	const account = "0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6f"
	const workspace = "9d7e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	tests := []struct {
		url    string
		wantOK bool
	}{
		{"https://api.prefect.cloud/api/accounts/" + account + "/workspaces/" + workspace, true},
		{"https://api.prefect.cloud/api/accounts/" + account + "/workspaces/" + workspace + "/", true},
		{"https://api.stg.prefect.dev/api/accounts/" + account + "/workspaces/" + workspace, true},
		{"http://127.0.0.1:41234/api/accounts/" + account + "/workspaces/" + workspace, true},
		{"https://api.prefect.cloud/api/accounts/0B3E4B4E-1C1F-4E1A-9D7E-1A2B3C4D5E6F/workspaces/" + workspace, true},
		{"https://api.prefect.cloud/api", false},
		{"http://127.0.0.1:4200/api", false},
		{"https://prefect.cloud.example.com/api", false},
		{"https://api.prefect.cloud/api/accounts/" + account, false},
		{"https://api.prefect.cloud/api/accounts/" + account + "/workspaces/not-a-uuid", false},
		{"https://api.prefect.cloud/api/accounts/" + account + "/workspaces/" + workspace + "/flows", false},
		{"https://api.prefect.cloud/v1/accounts/" + account + "/workspaces/" + workspace, false},
		{"https://api.prefect.cloud/api/account/" + account + "/workspaces/" + workspace, false},
		{"https://api.prefect.cloud/api/accounts/" + account + "/workspace/" + workspace, false},
		{"https://api.prefect.cloud/api/accounts/" + account[:35] + "/workspaces/" + workspace, false},
		{"https://api.prefect.cloud/api/accounts/" + account + "x/workspaces/" + workspace, false},
		{"https://api.prefect.cloud/api/accounts/0b3e4b4e_1c1f_4e1a_9d7e_1a2b3c4d5e6f/workspaces/" + workspace, false},
		{"https://api.prefect.cloud/api/accounts/0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6g/workspaces/" + workspace, false},
		{"ftp://api.prefect.cloud/api/accounts/" + account + "/workspaces/" + workspace, false},
		{"/api/accounts/" + account + "/workspaces/" + workspace, false},
		{"https://api.prefect.cloud/api?next=/api/accounts/" + account + "/workspaces/" + workspace, false},
		{"https://api.prefect.cloud/api#/api/accounts/" + account + "/workspaces/" + workspace, false},
		// Exactly one accounts/…/workspaces/… tail: the root must not be cut
		// at an earlier /accounts/ (issue 13, item 6).
		{"https://api.prefect.cloud/api/accounts/" + account + "/api/accounts/" + account + "/workspaces/" + workspace, false},
		{"https://api.prefect.cloud/api/workspaces/x/api/accounts/" + account + "/workspaces/" + workspace, false},
		{"https://api.prefect.cloud/api/Accounts/api/accounts/" + account + "/workspaces/" + workspace, false},
		{"", false},
		{"::", false},
	}
	for _, tt := range tests {
		gotAccount, gotWorkspace, ok := IsCloudURL(tt.url)
		if ok != tt.wantOK {
			t.Errorf("IsCloudURL(%q) ok = %v, want %v", tt.url, ok, tt.wantOK)
			continue
		}
		if ok && (gotAccount != account || gotWorkspace != workspace) {
			t.Errorf("IsCloudURL(%q) = %q, %q", tt.url, gotAccount, gotWorkspace)
		}
		if c, _ := ParseCloudURL(tt.url); ok && c.Root+"/accounts/"+account+"/workspaces/"+workspace != strings.TrimSuffix(strings.ToLower(tt.url), "/") {
			t.Errorf("ParseCloudURL(%q).Root = %q", tt.url, c.Root)
		}
		if !ok && (gotAccount != "" || gotWorkspace != "") {
			t.Errorf("IsCloudURL(%q) returned IDs without ok", tt.url)
		}
	}
}
