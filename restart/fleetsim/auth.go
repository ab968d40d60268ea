package fleetsim

import (
	"net/http"
	"strings"
	"time"
)

// scope is the SigV4 credential scope of a request:
// Credential=<access key id>/<date>/<region>/<service>/aws4_request.
type scope struct {
	accessKeyID, region, service string
}

// parseScope reads the credential scope from the Authorization header. The
// signature itself is not checked: fleetsim trusts its callers, it only
// needs to know who they claim to be.
func parseScope(r *http.Request) (scope, bool) {
	h := r.Header.Get("Authorization")
	i := strings.Index(h, "Credential=")
	if !strings.HasPrefix(h, "AWS4-HMAC-SHA256") || i < 0 {
		return scope{}, false
	}
	cred := h[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	p := strings.Split(cred, "/")
	if len(p) != 5 || p[0] == "" || p[4] != "aws4_request" {
		return scope{}, false
	}
	return scope{accessKeyID: p[0], region: p[2], service: p[3]}, true
}

// Session is a set of temporary credentials issued by AssumeRole.
type Session struct {
	AccessKeyID   string    `json:"accessKeyId"`
	Account       string    `json:"account"`
	RoleARN       string    `json:"roleArn"`
	SessionName   string    `json:"sessionName"`
	SourceAccount string    `json:"sourceAccount"`
	ExternalID    string    `json:"externalId,omitempty"`
	IssuedAt      time.Time `json:"issuedAt"`
	Expiration    time.Time `json:"expiration"`
}

// identity is who a request acts as.
type identity struct {
	account   string
	arn       string // caller ARN as STS GetCallerIdentity reports it
	userID    string
	hub       bool
	session   *Session
	accessKey string
}

// identify maps an access key id to an identity. It fails with the error
// AWS returns for unknown (or expired) credentials.
func (s *Sim) identify(akid string, now time.Time) (identity, *apiError) {
	if strings.HasPrefix(akid, s.cfg.HubAccessKeyID) {
		return identity{
			account: s.cfg.HubAccount, hub: true, accessKey: akid,
			arn:    "arn:aws:iam::" + s.cfg.HubAccount + ":user/fleetsim-hub",
			userID: "AIDAFLEETSIMHUB00001",
		}, nil
	}
	v, ok := s.sessions.Load(akid)
	if !ok {
		return identity{}, errInvalidToken
	}
	ss := v.(*Session)
	if !now.Before(ss.Expiration) {
		return identity{}, errExpiredToken
	}
	return identity{
		account: ss.Account, session: ss, accessKey: akid,
		arn:    "arn:aws:sts::" + ss.Account + ":assumed-role/" + s.cfg.RoleName + "/" + ss.SessionName,
		userID: "AROAFLEETSIM" + ss.Account[:8] + ":" + ss.SessionName,
	}, nil
}

// Sessions returns every session AssumeRole issued, oldest first, so that
// tests can check the session names a run used.
func (s *Sim) Sessions() []Session {
	s.sessionsMu.Lock()
	defer s.sessionsMu.Unlock()
	out := make([]Session, len(s.sessionLog))
	for i, ss := range s.sessionLog {
		out[i] = *ss
	}
	return out
}
