package plan

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
)

// Options say which stack to record.
type Options struct {
	Project string
	Stack   string
	// Config is the raw stack config ("namespace:key" -> value, objects as
	// JSON), as Pulumi hands it to the program.
	Config map[string]string
	// AccountID is what aws:getCallerIdentity answers; default 123456789012.
	AccountID string
	// SecretKeys are the raw keys set with --secret. Keys whose value holds
	// SecretPlaceholder (a `secure:` value the offline plan cannot
	// decrypt) are secret without being listed.
	SecretKeys []string
	// EndpointGaps lists, per endpoint service ("ssm"), zones it is not
	// offered in, to show what the program does where AWS lacks a service.
	EndpointGaps map[string][]string
	// RootDirectory is the project's directory (Pulumi.yaml), as the
	// engine tells the program in PULUMI_ROOT_DIRECTORY.
	RootDirectory string
	// Account is what the account already runs (see Account; the zero
	// value is a governed member account).
	Account Account
}

// Record runs program under mocks and returns every resource it declared,
// sorted by URN so that two recordings of the same code are identical.
func Record(program pulumi.RunFunc, opts Options) (*Plan, error) {
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	rec := &recorder{opts: opts, region: opts.Config["aws:region"]}
	secret := slices.Clone(opts.SecretKeys)
	for k, v := range opts.Config {
		if strings.Contains(v, SecretPlaceholder) && !slices.Contains(secret, k) {
			secret = append(secret, k)
		}
	}
	sort.Strings(secret)
	err := pulumi.RunErr(program,
		pulumi.WithMocks(opts.Project, opts.Stack, rec),
		func(info *pulumi.RunInfo) {
			info.Config = opts.Config
			info.ConfigSecretKeys = secret
			info.RootDirectory = opts.RootDirectory
			// Like `pulumi preview`: nothing is created.
			info.DryRun = true
		})
	if err != nil {
		return nil, err
	}
	sort.Slice(rec.resources, func(i, j int) bool { return rec.resources[i].URN < rec.resources[j].URN })
	return &Plan{Stack: opts.Stack, Resources: rec.resources}, nil
}

// recorder is the mock resource monitor: it answers like AWS would, with
// deterministic ids, and keeps what it was asked to create.
type recorder struct {
	opts   Options
	region string

	mu        sync.Mutex
	resources []Resource
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	parent := ""
	var deps []string
	retain := false
	if args.RegisterRPC != nil {
		retain = args.RegisterRPC.GetRetainOnDelete()
		parent = args.RegisterRPC.GetParent()
		deps = slices.Sorted(slices.Values(args.RegisterRPC.GetDependencies()))
		deps = slices.Compact(deps)
	}
	urn := r.urn(parent, args.TypeToken, args.Name)
	if resource.URN(parent).QualifiedType() == resource.RootStackType {
		parent = ""
	}
	state := settled(args.Inputs)
	inputs := toPlain(args.Inputs).(map[string]any)
	id, arn := "", ""
	if args.Custom {
		var err error
		if id, arn, err = r.computed(args, urn, state); err != nil {
			return "", nil, fmt.Errorf("%s %s: %w", args.TypeToken, args.Name, err)
		}
		// The name Pulumi gave an unnamed resource is one of its inputs,
		// as the provider's check returns them to the engine.
		if prop := shapes[args.TypeToken].autoName; prop != "" && inputs[prop] == nil {
			if v, ok := state[resource.PropertyKey(prop)]; ok && v.IsString() {
				inputs[prop] = v.StringValue()
			}
		}
	}
	r.mu.Lock()
	r.resources = append(r.resources, Resource{
		URN: urn, Type: args.TypeToken, Name: args.Name, Parent: parent, ID: id, ARN: arn,
		Inputs: inputs, DependsOn: deps, RetainOnDelete: retain,
	})
	r.mu.Unlock()
	return id, state, nil
}

// computed fills in what AWS computes that the program reads, and returns
// the resource's id and ARN (plan/arns.go).
func (r *recorder) computed(args pulumi.MockResourceArgs, urn string, state resource.PropertyMap) (id, arn string, err error) {
	part, suffix, _ := partitionOf(r.region)
	c := &created{
		name: args.Name, urn: urn,
		part: part, suffix: suffix, region: r.region, account: r.opts.AccountID,
		state: state, id: offlineID(args.TypeToken, urn),
	}
	sh, ok := shapes[args.TypeToken]
	if !ok {
		// A type the recorder does not know yet: a stand-in id and ARN
		// (TestNoARNOrIDIsAnOfflineStandIn names it).
		svc := Resource{Type: args.TypeToken}.Service()
		kind := args.TypeToken[strings.LastIndex(args.TypeToken, ":")+1:]
		c.arn = fmt.Sprintf("arn:%s:%s:%s:%s:%s/%s", part, svc, r.region, r.opts.AccountID, strings.ToLower(kind), c.id)
		if _, set := state["arn"]; !set {
			state["arn"] = resource.NewProperty(c.arn)
		}
		if _, set := state["name"]; !set {
			state["name"] = resource.NewProperty(args.Name)
		}
		return c.id, c.arn, nil
	}
	c.autoname(sh)
	if err := sh.fill(c); err != nil {
		return "", "", err
	}
	if c.unknown {
		// Built from a value the preview does not know: not known either.
		if c.arn != "" {
			state["arn"] = resource.MakeComputed(resource.NewProperty(""))
		}
		return offlineID(args.TypeToken, urn), "", nil
	}
	return c.id, c.arn, nil
}

// Call answers the data-source invokes the program makes. An invoke the
// offline plan cannot answer is an error, so that it is added here on
// purpose rather than answered with nothing.
func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		part, _, _ := partitionOf(r.region)
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": r.opts.AccountID,
			"arn":       fmt.Sprintf("arn:%s:iam::%s:user/offline-plan", part, r.opts.AccountID),
			"userId":    "AIDAOFFLINEPLAN",
			"id":        r.opts.AccountID,
		}), nil
	case "aws:index/getPartition:getPartition":
		name, suffix, reverse := partitionOf(r.region)
		return resource.NewPropertyMapFromMap(map[string]any{
			"partition": name, "dnsSuffix": suffix, "id": name, "reverseDnsPrefix": reverse,
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": r.region, "id": r.region}), nil
	case "aws:index/getServicePrincipal:getServicePrincipal":
		region := r.region
		if v, ok := args.Args["region"]; ok && v.IsString() {
			region = v.StringValue()
		}
		part, dns, _ := partitionOf(region)
		svc := args.Args["serviceName"].StringValue()
		name := account.Env{Region: region, Partition: part, DNSSuffix: dns}.ServicePrincipal(svc)
		suffix := name[len(svc)+1:]
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": name, "suffix": suffix, "region": region, "serviceName": svc, "id": svc + "." + region + "." + suffix,
		}), nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		return r.availabilityZones(args.Args)
	case "aws:ec2/getVpcEndpointService:getVpcEndpointService":
		return r.endpointService(args.Args)
	case "aws:ssm/getParameter:getParameter":
		return r.ssmParameter(args.Args)
	}
	if out, ok, err := r.accountLookup(args.Token, args.Args); ok {
		return out, err
	}
	return nil, fmt.Errorf("the offline plan has no answer for invoke %s: teach plan/record.go what AWS returns", args.Token)
}

func (r *recorder) availabilityZones(in resource.PropertyMap) (resource.PropertyMap, error) {
	state := ""
	if v, ok := in["state"]; ok && v.IsString() {
		state = v.StringValue()
	}
	filters := map[string][]string{}
	if v, ok := in["filters"]; ok && v.IsArray() {
		for _, f := range v.ArrayValue() {
			obj := f.ObjectValue()
			var values []string
			for _, x := range obj["values"].ArrayValue() {
				values = append(values, x.StringValue())
			}
			filters[obj["name"].StringValue()] = values
		}
	}
	zones, err := zonesOf(r.region, state, filters)
	if err != nil {
		return nil, err
	}
	var names, ids []any
	for _, z := range zones {
		names = append(names, z.name)
		ids = append(ids, z.id)
	}
	return resource.NewPropertyMapFromMap(map[string]any{"names": names, "zoneIds": ids, "id": r.region}), nil
}

// endpointService answers DescribeVpcEndpointServices for an AWS service:
// its name in the Region's partition and the zones it is offered in (every
// zone of the Region, less Options.EndpointGaps).
func (r *recorder) endpointService(in resource.PropertyMap) (resource.PropertyMap, error) {
	if v, ok := in["service"]; !ok || !v.IsString() {
		return nil, fmt.Errorf("the offline plan answers getVpcEndpointService by service only (plan/record.go)")
	}
	svc := in["service"].StringValue()
	typ := "Interface"
	if v, ok := in["serviceType"]; ok && v.IsString() {
		typ = v.StringValue()
	}
	zones, err := zonesOf(r.region, "available", map[string][]string{"zone-type": {"availability-zone"}})
	if err != nil {
		return nil, err
	}
	var offered []any
	for _, z := range zones {
		if !slices.Contains(r.opts.EndpointGaps[svc], z.name) {
			offered = append(offered, z.name)
		}
	}
	_, _, reverse := partitionOf(r.region)
	name := fmt.Sprintf("%s.%s.%s", reverse, r.region, svc)
	return resource.NewPropertyMapFromMap(map[string]any{
		"serviceName": name, "service": svc, "serviceType": typ, "availabilityZones": offered,
		"id": name, "owner": "amazon", "vpcEndpointPolicySupported": true,
	}), nil
}

const typeDefaultSecurityGroup = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"

// DefaultSecurityGroupID is the offline id of the default security group of
// the VPC whose offline id is vpcID: what the VPC's defaultSecurityGroupId
// output and an adopted aws:ec2/defaultSecurityGroup both carry.
func DefaultSecurityGroupID(vpcID string) string { return defaultSecurityGroupID(vpcID) }

func defaultSecurityGroupID(vpcID string) string {
	return offlineID(typeDefaultSecurityGroup, "default-security-group-of-"+vpcID)
}

func (r *recorder) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(r.opts.Stack), tokens.PackageName(r.opts.Project), parentType, tokens.Type(typ), name))
}

// idPrefixes make offline ids read like the real ones.
var idPrefixes = map[string]string{
	"aws:ec2/vpc:Vpc":                                     "vpc-",
	"aws:ec2/subnet:Subnet":                               "subnet-",
	"aws:ec2/natGateway:NatGateway":                       "nat-",
	"aws:ec2/eip:Eip":                                     "eipalloc-",
	"aws:ec2/internetGateway:InternetGateway":             "igw-",
	"aws:ec2/routeTable:RouteTable":                       "rtb-",
	"aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
	"aws:ec2/securityGroup:SecurityGroup":                 "sg-",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":   "sg-",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                     "vpce-",
	"aws:ec2/flowLog:FlowLog":                             "fl-",
	"aws:ec2/instance:Instance":                           "i-",
	"aws:efs/fileSystem:FileSystem":                       "fs-",
	"aws:efs/accessPoint:AccessPoint":                     "fsap-",
	"aws:efs/mountTarget:MountTarget":                     "fsmt-",
}

func offlineID(typ, urn string) string {
	h := fnv.New64a()
	h.Write([]byte(urn))
	prefix, ok := idPrefixes[typ]
	if !ok {
		prefix = "offline-"
	}
	return fmt.Sprintf("%s%017x", prefix, h.Sum64())[:len(prefix)+17]
}

// settled turns the output values among inputs into the values a provider
// would echo back as state: known ones become their value (kept secret when
// they were), unknown ones stay computed. The SDK cannot read an output
// value back from a mock's state.
func settled(in resource.PropertyMap) resource.PropertyMap {
	out := make(resource.PropertyMap, len(in))
	for k, v := range in {
		out[k] = settle(v)
	}
	return out
}

func settle(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return resource.MakeComputed(resource.NewProperty(""))
		}
		if o.Secret {
			return resource.MakeSecret(settle(o.Element))
		}
		return settle(o.Element)
	case v.IsSecret():
		return resource.MakeSecret(settle(v.SecretValue().Element))
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]resource.PropertyValue, len(arr))
		for i, e := range arr {
			out[i] = settle(e)
		}
		return resource.NewProperty(out)
	case v.IsObject():
		return resource.NewProperty(settled(v.ObjectValue()))
	}
	return v
}

// toPlain turns property values into JSON-ready values.
func toPlain(v any) any {
	switch x := v.(type) {
	case resource.PropertyMap:
		m := make(map[string]any, len(x))
		for k, pv := range x {
			if strings.HasPrefix(string(k), "__") {
				continue // engine bookkeeping such as __defaults
			}
			m[string(k)] = toPlain(pv)
		}
		return m
	case resource.PropertyValue:
		switch {
		case x.IsNull(), x.IsComputed():
			return nil
		case x.IsOutput():
			o := x.OutputValue()
			if !o.Known {
				return nil
			}
			if o.Secret {
				return SecretPlaceholder
			}
			return toPlain(o.Element)
		case x.IsSecret():
			return SecretPlaceholder
		case x.IsBool():
			return x.BoolValue()
		case x.IsNumber():
			return x.NumberValue()
		case x.IsString():
			return x.StringValue()
		case x.IsArray():
			arr := x.ArrayValue()
			out := make([]any, len(arr))
			for i, e := range arr {
				out[i] = toPlain(e)
			}
			return out
		case x.IsObject():
			return toPlain(x.ObjectValue())
		case x.IsResourceReference():
			return string(x.ResourceReferenceValue().URN)
		case x.IsAsset():
			return "asset:" + x.AssetValue().Hash
		case x.IsArchive():
			return "archive:" + x.ArchiveValue().Hash
		}
	}
	return nil
}
