package fleetsim

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func stsError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

var (
	stsMissingAuth  = stsError(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	stsInvalidToken = stsError(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	stsExpiredToken = stsError(http.StatusBadRequest, "ExpiredToken", "The security token included in the request is expired")
	stsServerError  = &apiError{status: http.StatusInternalServerError, code: "InternalFailure", message: "The request processing has failed because of an unknown error, exception or failure.", receiver: true}
)

var (
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	roleARNRE     = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,64})$`)
)

func (s *Sim) serveSTS(w http.ResponseWriter, r *http.Request, sc scope, body []byte) {
	reqID := s.requestID()
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeXMLError(w, reqID, stsError(http.StatusBadRequest, "MalformedQueryString", "%v", err))
		return
	}
	action := form.Get("Action")
	now := s.clock.Now()
	var id identity
	if sc.accessKeyID == "" {
		writeXMLError(w, reqID, stsMissingAuth)
		return
	}
	id, aerr := s.identify(sc.accessKeyID, now)
	if aerr == errExpiredToken {
		writeXMLError(w, reqID, stsExpiredToken)
		return
	} else if aerr != nil {
		writeXMLError(w, reqID, stsInvalidToken)
		return
	}
	a := s.accounts[id.account]
	a.mu.Lock()
	a.calls[action]++
	a.mu.Unlock()

	target := id.account
	if action == "AssumeRole" {
		if m := roleARNRE.FindStringSubmatch(form.Get("RoleArn")); m != nil {
			target = m[1]
		}
	}
	if af := s.callFault(FaultLatency, target, sc.region, action); af != nil {
		if !sleep(r, af.Latency) {
			return
		}
	}
	if s.callFault(FaultServerError, target, sc.region, action) != nil {
		writeXMLError(w, reqID, stsServerError)
		return
	}
	switch action {
	case "GetCallerIdentity":
		type result struct {
			Arn     string
			UserId  string
			Account string
		}
		writeXML(w, reqID, stsResponse[result]{
			XMLName: xml.Name{Local: "GetCallerIdentityResponse"}, Xmlns: stsNamespace,
			Result:   result{Arn: id.arn, UserId: id.userID, Account: id.account},
			Metadata: responseMetadata{RequestID: reqID},
		})
	case "AssumeRole":
		res, aerr := s.assumeRole(id, form, sc.region, now)
		if aerr != nil {
			writeXMLError(w, reqID, aerr)
			return
		}
		writeXML(w, reqID, stsResponse[assumeRoleResult]{
			XMLName: xml.Name{Local: "AssumeRoleResponse"}, Xmlns: stsNamespace,
			Result: res, Metadata: responseMetadata{RequestID: reqID},
		})
	default:
		writeXMLError(w, reqID, stsError(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", action, form.Get("Version")))
	}
}

// stsResponse is the awsQuery envelope: <XResponse><XResult>...</XResult>
// <ResponseMetadata><RequestId/></ResponseMetadata></XResponse>.
type stsResponse[T any] struct {
	XMLName  xml.Name
	Xmlns    string           `xml:"xmlns,attr"`
	Result   T                `xml:"-"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

// MarshalXML names the result element after the response element, as the
// SDK looks for <ActionResult>.
func (r stsResponse[T]) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	start := xml.StartElement{Name: r.XMLName, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: r.Xmlns}}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	resultName := strings.TrimSuffix(r.XMLName.Local, "Response") + "Result"
	if err := e.EncodeElement(r.Result, xml.StartElement{Name: xml.Name{Local: resultName}}); err != nil {
		return err
	}
	if err := e.EncodeElement(r.Metadata, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type assumeRoleResult struct {
	AssumedRoleUser struct {
		Arn           string
		AssumedRoleId string
	}
	Credentials struct {
		AccessKeyId     string
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
}

// assumeRole applies the member role's trust policy: only the hub may
// assume it, with the configured role name and external id.
func (s *Sim) assumeRole(caller identity, form url.Values, region string, now time.Time) (assumeRoleResult, *apiError) {
	var res assumeRoleResult
	roleARN, name := form.Get("RoleArn"), form.Get("RoleSessionName")
	if !sessionNameRE.MatchString(name) {
		return res, stsError(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", name)
	}
	m := roleARNRE.FindStringSubmatch(roleARN)
	if m == nil {
		return res, stsError(http.StatusBadRequest, "ValidationError", "%s is invalid", roleARN)
	}
	dur := time.Hour
	if v := form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			return res, stsError(http.StatusBadRequest, "ValidationError",
				"1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", v)
		}
		dur = time.Duration(n) * time.Second
	}
	if dur > s.cfg.MaxSessionDuration {
		return res, stsError(http.StatusBadRequest, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	acct, role := m[1], m[2]
	_, member := s.accounts[acct]
	denied := !caller.hub || !member || acct == s.cfg.HubAccount || role != s.cfg.RoleName ||
		(s.cfg.ExternalID != "" && form.Get("ExternalId") != s.cfg.ExternalID) ||
		s.callFault(FaultAccessDenied, acct, region, "AssumeRole") != nil
	if denied {
		return res, stsError(http.StatusForbidden, "AccessDenied",
			"User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.arn, roleARN)
	}
	if life := s.sessionLifetime(acct); life > 0 {
		// token-expiry: the session ends sooner than asked, as a chained
		// role session (at most an hour) or short hub credentials do.
		dur = life
	}
	n := s.seq.Add(1)
	h := s.hash("session", acct, name, strconv.FormatUint(n, 10))
	ss := &Session{
		AccessKeyID: "ASIA" + base32ID(h) + base32ID(mix64(h))[:4],
		Account:     acct, RoleARN: roleARN, SessionName: name, SourceAccount: caller.account,
		ExternalID: form.Get("ExternalId"), IssuedAt: now, Expiration: now.Add(dur),
	}
	s.sessions.Store(ss.AccessKeyID, ss)
	s.sessionsMu.Lock()
	s.sessionLog = append(s.sessionLog, ss)
	s.sessionsMu.Unlock()

	roleID := "AROA" + base32ID(s.hash("role", acct))[:12] + base32ID(s.hash("role2", acct))[:5]
	res.AssumedRoleUser.Arn = "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + name
	res.AssumedRoleUser.AssumedRoleId = roleID + ":" + name
	res.Credentials.AccessKeyId = ss.AccessKeyID
	res.Credentials.SecretAccessKey = base32ID(s.hash("secret", ss.AccessKeyID)) + base32ID(s.hash("secret2", ss.AccessKeyID)) +
		base32ID(s.hash("secret3", ss.AccessKeyID)) + base32ID(s.hash("secret4", ss.AccessKeyID))[:4]
	res.Credentials.SessionToken = "FwoGZXIvYXdzE" + base32ID(s.hash("token", ss.AccessKeyID)) + base32ID(s.hash("token2", ss.AccessKeyID))
	res.Credentials.Expiration = ss.Expiration.UTC().Format(time.RFC3339)
	return res, nil
}
