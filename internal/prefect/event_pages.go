package prefect

import (
	"context"
	"net/url"
	"strings"
)

// Events paging: POST /events/filter answers one page and a next_page link
// to GET /events/filter/next (src/prefect/server/api/events.py).
const (
	// EventsMaxPage is Prefect's cap on events per page (422 above it).
	EventsMaxPage = 50
	// EventsNextPath is the route of the following pages.
	EventsNextPath = "/events/filter/next"
)

// Reader is the part of a Client a paging read needs.
type Reader interface {
	Poster
	Get(ctx context.Context, path string, q url.Values, out any) error
}

// EventsRead is what PageEvents read.
type EventsRead struct {
	Events []Event // at most the limit asked, newest first as Prefect sorts them
	Total  int     // as Prefect counted them, at least len(Events)
	More   bool    // events are left beyond Events
	// Stopped is set when paging stopped early at a next_page link that is
	// not an events page link.
	Stopped string
}

// PageEvents reads up to limit events matching filter: POST /events/filter,
// then the server's next_page links, EventsMaxPage per request. It never
// contacts the host named in next_page: only its page token is sent, to
// the client's own API root.
func PageEvents(ctx context.Context, api Reader, filter any, limit int) (EventsRead, error) {
	var first EventPage
	if err := api.Post(ctx, "/events/filter", Body{"filter": filter, "limit": min(limit, EventsMaxPage)}, &first); err != nil {
		return EventsRead{}, err
	}
	r := EventsRead{Events: first.Events, Total: first.Total}
	next := first.NextPage
	for len(r.Events) < limit && next != "" {
		token, ok := EventsPageToken(next)
		if !ok {
			r.Stopped = "stopped paging: the server's next_page link was not an events page link"
			next = ""
			break
		}
		var p EventPage
		if err := api.Get(ctx, EventsNextPath, url.Values{"page-token": {token}}, &p); err != nil {
			return EventsRead{}, err
		}
		if len(p.Events) == 0 {
			next = ""
			break
		}
		r.Events, next = append(r.Events, p.Events...), p.NextPage
	}
	r.More = len(r.Events) > limit || next != "" || r.Total > len(r.Events)
	r.Events = r.Events[:min(len(r.Events), limit)]
	r.Total = max(r.Total, len(r.Events))
	return r, nil
}

// EventsPageToken extracts the page token of a next_page URL whose path is
// an events next-page path, under whatever root the server believes it has
// (it may sit behind a proxy).
func EventsPageToken(next string) (string, bool) {
	u, err := url.Parse(next)
	if err != nil || !strings.HasSuffix(u.Path, EventsNextPath) {
		return "", false
	}
	token := u.Query().Get("page-token")
	return token, token != ""
}
