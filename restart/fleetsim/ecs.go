package fleetsim

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const ecsTargetPrefix = "AmazonEC2ContainerServiceV20141113."

// ecsOp serves one ECS action for an account in a Region. It runs with the
// account lock held.
type ecsOp func(s *Sim, c *ecsCall, body []byte) (any, *apiError)

// ecsCall is what an action needs to know about the request.
type ecsCall struct {
	acct   *account
	id     identity
	region string
	now    time.Time
	op     string
}

var ecsOps = map[string]ecsOp{
	"ListClusters":               (*Sim).listClusters,
	"ListServices":               (*Sim).listServices,
	"DescribeServices":           (*Sim).describeServices,
	"UpdateService":              (*Sim).updateService,
	"TagResource":                (*Sim).tagResource,
	"UntagResource":              (*Sim).untagResource,
	"ListTagsForResource":        (*Sim).listTagsForResource,
	"ListServiceDeployments":     (*Sim).listServiceDeployments,
	"DescribeServiceDeployments": (*Sim).describeServiceDeployments,
	"DescribeServiceRevisions":   (*Sim).describeServiceRevisions,
}

func (s *Sim) serveECS(w http.ResponseWriter, r *http.Request, sc scope, body []byte) {
	reqID := s.requestID()
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), ecsTargetPrefix)
	handler, ok := ecsOps[op]
	if !ok {
		writeJSONError(w, reqID, ecsError("UnknownOperationException", "Operation %s is not supported by fleetsim", op))
		return
	}
	now := s.clock.Now()
	id, aerr := s.identify(sc.accessKeyID, now)
	if aerr != nil {
		writeJSONError(w, reqID, aerr)
		return
	}
	if af := s.callFault(FaultLatency, id.account, sc.region, op); af != nil {
		if !sleep(r, af.Latency) {
			return
		}
	}
	if s.callFault(FaultRegionDisabled, id.account, sc.region, op) != nil {
		writeJSONError(w, reqID, errInvalidToken)
		return
	}
	a := s.accounts[id.account]
	a.mu.Lock()
	a.calls[op]++
	a.rate(sc.region, ecsOpCategory[op]).add(now)
	throttled := !s.take(a, sc.region, op, now)
	if !throttled && s.callFault(FaultThrottle, id.account, sc.region, op) != nil {
		throttled = true
	}
	if throttled {
		a.throttled[op]++
	}
	a.mu.Unlock()
	if throttled {
		writeJSONError(w, reqID, errThrottled)
		return
	}
	if s.callFault(FaultAccessDenied, id.account, sc.region, op) != nil {
		writeJSONError(w, reqID, ecsError("AccessDeniedException",
			"User: %s is not authorized to perform: ecs:%s on resource: * because no identity-based policy allows the ecs:%s action", id.arn, op, op))
		return
	}
	if s.callFault(FaultServerError, id.account, sc.region, op) != nil {
		writeJSONError(w, reqID, errServer)
		return
	}
	a.mu.Lock()
	out, aerr := handler(s, &ecsCall{acct: a, id: id, region: sc.region, now: now, op: op}, body)
	a.mu.Unlock()
	if aerr != nil {
		writeJSONError(w, reqID, aerr)
		return
	}
	if s.appliedServerError(id.account, sc.region, op) {
		// The change is made; only the answer is lost.
		writeJSONError(w, reqID, errServer)
		return
	}
	writeJSON(w, reqID, out)
}

// appliedServerError draws whether an applied-server-error fault answers
// this (applied) call with HTTP 500. Without an op the fault is about
// UpdateService.
func (s *Sim) appliedServerError(acct, region, op string) bool {
	for _, af := range s.faults.load() {
		if af.Kind != FaultAppliedServerError || !matches(af.Account, acct) || !matches(af.Region, region) {
			continue
		}
		if want := cmp.Or(af.Op, "UpdateService"); !strings.EqualFold(want, op) {
			continue
		}
		if af.Rate > 0 && s.fraction("applied", fmt.Sprint(af.index), fmt.Sprint(af.seen.Add(1))) >= af.Rate {
			continue
		}
		if af.fire() {
			return true
		}
	}
	return false
}

// sleep waits d or until the client goes away; it reports whether to go on.
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// take draws a token from the account's bucket for op in region. The caller
// holds the account lock.
func (s *Sim) take(a *account, region, op string, now time.Time) bool {
	if s.cfg.NoThrottle {
		return true
	}
	cat := ecsOpCategory[op]
	key := region + "/" + cat
	b := a.buckets[key]
	if b == nil {
		b = newBucket(ecsThrottleCategories[cat].scaled(s.cfg.ThrottleScale), now)
		a.buckets[key] = b
	}
	list, share := s.neighbours(a.id, region, cat)
	ok := b.take(now, 1-share)
	if !ok {
		// A throttle while neighbours share the bucket: count it as theirs.
		for _, af := range list {
			af.fire()
		}
	}
	return ok
}

func decode(body []byte, v any) *apiError {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return ecsError("SerializationException", "Could not parse request body: %v", err)
	}
	return nil
}

// page validates maxResults as ECS does (1..100) and applies the default.
func page(maxResults *int32, def int) (int, *apiError) {
	if maxResults == nil {
		return def, nil
	}
	if *maxResults < 1 || *maxResults > 100 {
		return 0, ecsError("InvalidParameterException", "maxResults must be between 1 and 100, got %d", *maxResults)
	}
	return int(*maxResults), nil
}

// Paging tokens are opaque to clients; inside they name the last item
// returned, so that deletions between pages neither skip nor repeat items.
func encodeToken(kind, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("fleetsim1|" + kind + "|" + last))
}

func decodeToken(kind, tok string) (string, *apiError) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	p := strings.SplitN(string(b), "|", 3)
	if err != nil || len(p) != 3 || p[0] != "fleetsim1" || p[1] != kind {
		return "", ecsError("InvalidParameterException", "Invalid token %s", tok)
	}
	return p[2], nil
}

// resolveCluster finds a cluster by name or ARN, as ECS's cluster
// parameter accepts both ("default" when empty).
func (c *ecsCall) cluster(ref string) (*cluster, *apiError) {
	name := ref
	if name == "" {
		name = "default"
	}
	if strings.HasPrefix(name, "arn:") {
		p := strings.SplitN(name, ":", 6)
		if len(p) != 6 || p[3] != c.region || p[4] != c.acct.id || !strings.HasPrefix(p[5], "cluster/") {
			return nil, ecsError("ClusterNotFoundException", "Cluster not found.")
		}
		name = strings.TrimPrefix(p[5], "cluster/")
	}
	r := c.acct.regions[c.region]
	if r == nil || r.clusters[name] == nil {
		return nil, ecsError("ClusterNotFoundException", "Cluster not found.")
	}
	return r.clusters[name], nil
}

// serviceName takes a service name or ARN (new or old format) to its name.
func serviceName(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref[strings.LastIndex(ref, "/")+1:]
	}
	return ref
}

func (s *Sim) listClusters(c *ecsCall, body []byte) (any, *apiError) {
	var in struct {
		MaxResults *int32 `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	n, err := page(in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken("clusters", in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		ClusterArns []string `json:"clusterArns"`
		NextToken   string   `json:"nextToken,omitempty"`
	}{ClusterArns: []string{}}
	if r := c.acct.regions[c.region]; r != nil {
		for _, cl := range r.order {
			if cl.name <= after && after != "" {
				continue
			}
			if len(out.ClusterArns) == n {
				out.NextToken = encodeToken("clusters", out.ClusterArns[n-1][strings.LastIndex(out.ClusterArns[n-1], "/")+1:])
				break
			}
			out.ClusterArns = append(out.ClusterArns, cl.arn)
		}
		// cluster-gone: somebody deletes some of the clusters just listed
		// (with their services), before the caller lists their services.
		for _, arn := range out.ClusterArns {
			if cl := r.clusters[arn[strings.LastIndex(arn, "/")+1:]]; cl != nil && s.clusterGone(c.acct.id, c.region, cl) {
				s.deleteCluster(r, cl)
			}
		}
	}
	return out, nil
}

func (s *Sim) listServices(c *ecsCall, body []byte) (any, *apiError) {
	var in struct {
		Cluster            string `json:"cluster"`
		MaxResults         *int32 `json:"maxResults"`
		NextToken          string `json:"nextToken"`
		LaunchType         string `json:"launchType"`
		SchedulingStrategy string `json:"schedulingStrategy"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	n, err := page(in.MaxResults, 10)
	if err != nil {
		return nil, err
	}
	cl, err := c.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken("services/"+cl.name, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		ServiceArns []string `json:"serviceArns"`
		NextToken   string   `json:"nextToken,omitempty"`
	}{ServiceArns: []string{}}
	var last string
	for _, sv := range cl.order {
		if (after != "" && sv.name <= after) || sv.status != statusActive ||
			(in.LaunchType != "" && in.LaunchType != sv.launchType) ||
			(in.SchedulingStrategy != "" && in.SchedulingStrategy != sv.scheduling) {
			continue
		}
		if len(out.ServiceArns) == n {
			out.NextToken = encodeToken("services/"+cl.name, last)
			break
		}
		out.ServiceArns = append(out.ServiceArns, sv.shownARN())
		last = sv.name
	}
	return out, nil
}

func (s *Sim) describeServices(c *ecsCall, body []byte) (any, *apiError) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
		Include  []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Services) == 0 {
		return nil, ecsError("InvalidParameterException", "Services cannot be empty.")
	}
	if len(in.Services) > 10 {
		return nil, ecsError("InvalidParameterException", "services can have at most 10 items.")
	}
	cl, err := c.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	withTags := false
	for _, inc := range in.Include {
		if inc == "TAGS" {
			withTags = true
		}
	}
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	out := struct {
		Services []wireService `json:"services"`
		Failures []failure     `json:"failures"`
	}{Services: []wireService{}, Failures: []failure{}}
	for _, ref := range in.Services {
		sv := cl.services[serviceName(ref)]
		if sv == nil {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = serviceARN(c.region, c.acct.id, cl.name, ref)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		sv.settle(s, c.now)
		out.Services = append(out.Services, s.render(sv, c.now, withTags))
		s.onRead(cl, sv, c.now)
	}
	return out, nil
}

func (s *Sim) updateService(c *ecsCall, body []byte) (any, *apiError) {
	var in struct {
		Cluster            string `json:"cluster"`
		Service            string `json:"service"`
		ForceNewDeployment bool   `json:"forceNewDeployment"`
		DesiredCount       *int32 `json:"desiredCount"`
		TaskDefinition     string `json:"taskDefinition"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	cl, err := c.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	sv := cl.services[serviceName(in.Service)]
	if sv == nil {
		return nil, ecsError("ServiceNotFoundException", "Service not found.")
	}
	if sv.status != statusActive {
		return nil, ecsError("ServiceNotActiveException", "Service was not ACTIVE.")
	}
	newTaskDef := in.TaskDefinition != "" && in.TaskDefinition != sv.taskDef
	if (in.ForceNewDeployment || newTaskDef) && sv.controller != "ECS" {
		return nil, ecsError("InvalidParameterException",
			"Unable to force a new deployment on services with a %s deployment controller.", sv.controller)
	}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, ecsError("InvalidParameterException", "desiredCount must be greater than or equal to 0.")
	}
	sv.settle(s, c.now)
	if in.DesiredCount != nil {
		sv.desired = *in.DesiredCount
		if p := sv.primary(); p != nil {
			p.desired = sv.desired
		}
	}
	if newTaskDef {
		sv.taskDef = in.TaskDefinition
	}
	day := c.now.In(s.loc).Format(time.DateOnly)
	if in.ForceNewDeployment || newTaskDef {
		if c.acct.started[day] == nil {
			c.acct.started[day] = map[string]int{}
		}
		c.acct.started[day][sv.arn]++
		if p := sv.primary(); p != nil && p.rollout == rolloutInProgress {
			target := p
			if p.rollbackOf != nil {
				target = p.rollbackOf
			}
			target.sdStatus, target.sdReason, target.sdStopped = "STOPPED", "Service deployment superseded by a newer deployment.", c.now
		}
		d := s.newDeployment(sv, sv.taskDef, c.now, s.deploymentOutcome(sv))
		sv.deployments = append([]*deployment{d}, sv.deployments...)
	}
	if c.acct.updates[day] == nil {
		c.acct.updates[day] = map[string]int{}
	}
	c.acct.updates[day][sv.arn]++
	return struct {
		Service wireService `json:"service"`
	}{s.render(sv, c.now, false)}, nil
}

// resource finds the cluster or service an ECS ARN names in the caller's
// account and Region.
func (c *ecsCall) resource(arn string) (cl *cluster, sv *service, aerr *apiError) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "ecs" {
		return nil, nil, ecsError("InvalidParameterException", "Invalid resource ARN %s", arn)
	}
	if p[3] != c.region || p[4] != c.acct.id {
		return nil, nil, ecsError("AccessDeniedException",
			"User: %s is not authorized to perform: ecs:%s on resource: %s because no resource-based policy allows the ecs:%s action", c.id.arn, c.op, arn, c.op)
	}
	notFound := ecsError("ResourceNotFoundException", "The specified resource wasn't found.")
	parts := strings.Split(p[5], "/")
	r := c.acct.regions[c.region]
	if r == nil {
		return nil, nil, notFound
	}
	switch {
	case len(parts) == 2 && parts[0] == "cluster":
		if cl = r.clusters[parts[1]]; cl == nil {
			return nil, nil, notFound
		}
		return cl, nil, nil
	case len(parts) == 3 && parts[0] == "service":
		if cl = r.clusters[parts[1]]; cl == nil || cl.services[parts[2]] == nil {
			return nil, nil, notFound
		}
		return cl, cl.services[parts[2]], nil
	case len(parts) == 2 && parts[0] == "service":
		// The short ARN names no cluster: the service is found by name
		// among the services that have that ARN.
		for _, cl := range r.order {
			if sv := cl.services[parts[1]]; sv != nil && sv.shortARN {
				return cl, sv, nil
			}
		}
	}
	return nil, nil, notFound
}

// errShortARN is ECS's answer to tagging a service with a short ARN
// (TagResource: "If you try to tag a service with a short ARN, you receive
// an InvalidParameterException error").
var errShortARN = ecsError("InvalidParameterException",
	"The new ARN and resource ID format must be enabled to add tags to the service. Opt in to the new format and try again.")

// tagsOf returns the tag list of the cluster or service arn names.
func (c *ecsCall) tagsOf(arn string) (*[]tag, *apiError) {
	cl, sv, err := c.resource(arn)
	if err != nil {
		return nil, err
	}
	if sv != nil {
		return &sv.tags, nil
	}
	return &cl.tags, nil
}

func (s *Sim) tagResource(c *ecsCall, body []byte) (any, *apiError) {
	var in struct {
		ResourceArn string    `json:"resourceArn"`
		Tags        []wireTag `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if _, sv, err := c.resource(in.ResourceArn); err == nil && sv != nil && sv.shortARN {
		return nil, errShortARN
	}
	tags, err := c.tagsOf(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		if len(t.Key) < 1 || len(t.Key) > 128 || len(t.Value) > 256 {
			return nil, ecsError("InvalidParameterException", "Tag key must be 1 to 128 characters and value at most 256 characters.")
		}
	}
	next := append([]tag(nil), *tags...)
	for _, t := range in.Tags {
		next = setTag(next, t.Key, t.Value)
	}
	if len(next) > 50 {
		return nil, ecsError("InvalidParameterException", "The number of tags on the resource cannot exceed 50.")
	}
	*tags = next
	return struct{}{}, nil
}

func (s *Sim) untagResource(c *ecsCall, body []byte) (any, *apiError) {
	var in struct {
		ResourceArn string   `json:"resourceArn"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if _, sv, err := c.resource(in.ResourceArn); err == nil && sv != nil && sv.shortARN {
		return nil, errShortARN
	}
	tags, err := c.tagsOf(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		*tags = removeTag(*tags, k)
	}
	return struct{}{}, nil
}

func (s *Sim) listTagsForResource(c *ecsCall, body []byte) (any, *apiError) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	tags, err := c.tagsOf(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if _, sv, _ := c.resource(in.ResourceArn); sv != nil {
		return struct {
			Tags []wireTag `json:"tags"`
		}{wireTags(sv.shownTags())}, nil
	}
	return struct {
		Tags []wireTag `json:"tags"`
	}{wireTags(*tags)}, nil
}

func (s *Sim) listServiceDeployments(c *ecsCall, body []byte) (any, *apiError) {
	var in struct {
		Service   string   `json:"service"`
		Cluster   string   `json:"cluster"`
		Status    []string `json:"status"`
		CreatedAt *struct {
			After  *epoch `json:"after"`
			Before *epoch `json:"before"`
		} `json:"createdAt"`
		MaxResults *int32 `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	n, err := page(in.MaxResults, 20)
	if err != nil {
		return nil, err
	}
	cl, err := c.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	sv := cl.services[serviceName(in.Service)]
	if sv == nil {
		return nil, ecsError("ServiceNotFoundException", "Service not found.")
	}
	after, err := decodeToken("deployments/"+sv.arn, in.NextToken)
	if err != nil {
		return nil, err
	}
	sv.settle(s, c.now)
	out := struct {
		ServiceDeployments []wireServiceDeploymentBrief `json:"serviceDeployments"`
		NextToken          string                       `json:"nextToken,omitempty"`
	}{ServiceDeployments: []wireServiceDeploymentBrief{}}
	skipping := after != ""
	for i := len(sv.history) - 1; i >= 0; i-- { // newest first
		d := sv.history[i]
		if d.rollbackOf != nil {
			continue
		}
		if skipping {
			if d.sdArn == after {
				skipping = false
			}
			continue
		}
		if len(in.Status) > 0 && !contains(in.Status, d.sdStatus) {
			continue
		}
		if in.CreatedAt != nil && ((in.CreatedAt.After != nil && d.createdAt.Before(time.Time(*in.CreatedAt.After))) ||
			(in.CreatedAt.Before != nil && d.createdAt.After(time.Time(*in.CreatedAt.Before)))) {
			continue
		}
		if len(out.ServiceDeployments) == n {
			out.NextToken = encodeToken("deployments/"+sv.arn, out.ServiceDeployments[n-1].ServiceDeploymentArn)
			break
		}
		b := wireServiceDeploymentBrief{
			ServiceDeploymentArn: d.sdArn, ServiceArn: sv.shownARN(), ClusterArn: sv.clusterArn,
			CreatedAt: epoch(d.createdAt), StartedAt: epoch(d.createdAt),
			TargetServiceRevisionArn: d.targetRev, Status: d.sdStatus, StatusReason: d.sdReason,
		}
		if !d.finishedAt.IsZero() {
			b.FinishedAt = ptr(epoch(d.finishedAt))
		}
		out.ServiceDeployments = append(out.ServiceDeployments, b)
	}
	return out, nil
}

func (s *Sim) describeServiceDeployments(c *ecsCall, body []byte) (any, *apiError) {
	var in struct {
		ServiceDeploymentArns []string `json:"serviceDeploymentArns"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.ServiceDeploymentArns) == 0 || len(in.ServiceDeploymentArns) > 20 {
		return nil, ecsError("InvalidParameterException", "serviceDeploymentArns must contain between 1 and 20 items.")
	}
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	out := struct {
		ServiceDeployments []wireServiceDeployment `json:"serviceDeployments"`
		Failures           []failure               `json:"failures"`
	}{ServiceDeployments: []wireServiceDeployment{}, Failures: []failure{}}
	for _, arn := range in.ServiceDeploymentArns {
		d, sv := c.findServiceDeployment(s, arn)
		if d == nil {
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.ServiceDeployments = append(out.ServiceDeployments, s.renderServiceDeployment(sv, d, c.now))
	}
	return out, nil
}

// findServiceDeployment resolves
// arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>.
func (c *ecsCall) findServiceDeployment(s *Sim, arn string) (*deployment, *service) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[3] != c.region || p[4] != c.acct.id {
		return nil, nil
	}
	parts := strings.Split(p[5], "/")
	r := c.acct.regions[c.region]
	if len(parts) != 4 || parts[0] != "service-deployment" || r == nil || r.clusters[parts[1]] == nil {
		return nil, nil
	}
	sv := r.clusters[parts[1]].services[parts[2]]
	if sv == nil {
		return nil, nil
	}
	sv.settle(s, c.now)
	for _, d := range sv.history {
		if d.sdArn == arn && d.rollbackOf == nil {
			return d, sv
		}
	}
	return nil, nil
}

func (s *Sim) describeServiceRevisions(c *ecsCall, body []byte) (any, *apiError) {
	var in struct {
		ServiceRevisionArns []string `json:"serviceRevisionArns"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	// "You can specify a maximum of 20 ARNs" (ECS API Reference,
	// DescribeServiceRevisions).
	if len(in.ServiceRevisionArns) == 0 || len(in.ServiceRevisionArns) > 20 {
		return nil, ecsError("InvalidParameterException", "serviceRevisionArns must contain between 1 and 20 items.")
	}
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	out := struct {
		ServiceRevisions []wireServiceRevision `json:"serviceRevisions"`
		Failures         []failure             `json:"failures"`
	}{ServiceRevisions: []wireServiceRevision{}, Failures: []failure{}}
	for _, arn := range in.ServiceRevisionArns {
		d, sv := c.findServiceRevision(arn)
		if d == nil {
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.ServiceRevisions = append(out.ServiceRevisions, wireServiceRevision{
			ServiceRevisionArn: arn, ServiceArn: sv.shownARN(), ClusterArn: sv.clusterArn,
			TaskDefinition: d.taskDef, LaunchType: sv.launchType, CreatedAt: epoch(d.createdAt),
			ContainerImages: []wireContainerImage{{ContainerName: sv.name, Image: sv.image, ImageDigest: d.digest}},
		})
	}
	return out, nil
}

// findServiceRevision resolves
// arn:aws:ecs:<region>:<account>:service-revision/<cluster>/<service>/<id>:
// the revision a deployment of the service's history targeted.
func (c *ecsCall) findServiceRevision(arn string) (*deployment, *service) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[3] != c.region || p[4] != c.acct.id {
		return nil, nil
	}
	parts := strings.Split(p[5], "/")
	r := c.acct.regions[c.region]
	if len(parts) != 4 || parts[0] != "service-revision" || r == nil || r.clusters[parts[1]] == nil {
		return nil, nil
	}
	sv := r.clusters[parts[1]].services[parts[2]]
	if sv == nil {
		return nil, nil
	}
	for i := len(sv.history) - 1; i >= 0; i-- {
		if d := sv.history[i]; d.targetRev == arn {
			return d, sv
		}
	}
	return nil, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
