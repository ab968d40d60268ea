package iamjudge

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

// Row is one thing an AWS service does for the stack, with the document
// that says what it needs, and the requests it makes in a plan.
type Row struct {
	Name string
	// Doc is the AWS document the requests are taken from.
	Doc      string
	Requests []Request
}

// OnBehalf lists what AWS services do on the stack's behalf, as requests
// built from the plan's own resources: each role a service assumes (its
// trust, with the confused-deputy keys the service sends), each resource
// it reads or writes with that role or as its own principal, and each key
// it uses on a caller's behalf (the caller's identity policy and the key
// policy, with kms:ViaService).
func OnBehalf(p *plan.Plan, ps *Policies, env account.Env) []Row {
	b := onBehalf{p: p, ps: ps, env: env}
	return []Row{
		b.assumes("ECS assumes the task and execution roles", "Amazon ECS Developer Guide, \"Amazon ECS task execution IAM role\" and \"Amazon ECS task IAM role\" (trust of ecs-tasks.amazonaws.com, aws:SourceAccount)", "ecs-tasks", b.taskRoles),
		b.secrets(),
		b.secretKeys(),
		b.taskLogs(),
		b.efsMounts(),
		b.logKeys(),
		b.alarmsPublish(),
		b.rulesPublish(),
		b.scheduler(),
		b.stateMachine(),
		b.assumes("Lambda assumes each function's role", "AWS Lambda Developer Guide, \"Defining Lambda function permissions with an execution role\"", "lambda", b.functionRoles),
		b.functionLogs(),
		b.deadLetters(),
		b.tableKeys(),
		b.topicKeys(),
		b.flowLogs(),
		b.assumes("RDS enhanced monitoring assumes its role", "Amazon RDS User Guide, \"Setting up and enabling Enhanced Monitoring\" (monitoring.rds.amazonaws.com, aws:SourceAccount)", "monitoring.rds", b.rolesOf("aws:rds/instance:Instance", "monitoringRoleArn")),
		b.accessLogs(),
		b.configDelivery(),
	}
}

type onBehalf struct {
	p   *plan.Plan
	ps  *Policies
	env account.Env
}

func (b onBehalf) key(arn string) json.RawMessage { return b.ps.Resource[arn] }

// serviceRequest is a request a service principal makes as itself.
func (b onBehalf) serviceRequest(service, action, resource string, ctx map[string]any, what string) Request {
	c := map[string]any{"aws:SecureTransport": "true", "aws:SourceAccount": b.env.AccountID}
	for k, v := range ctx {
		c[k] = v
	}
	return Request{
		Principal: service, Action: action, Resource: resource, ResourceAccount: b.env.AccountID,
		Context: c, ResourcePolicy: b.ps.Resource[resource], What: what,
	}
}

// roleRequest is a request a service makes with a role of the stack.
func (b onBehalf) roleRequest(role *Role, action, resource string, ctx map[string]any, what string) Request {
	c := map[string]any{
		"aws:SecureTransport": "true", "aws:PrincipalArn": role.ARN, "aws:PrincipalAccount": role.Account, "aws:PrincipalType": "AssumedRole",
	}
	for k, v := range ctx {
		c[k] = v
	}
	acct := AccountOf(resource)
	if acct == "" {
		acct = role.Account
	}
	return Request{
		Principal: role.ARN, Action: action, Resource: resource, ResourceAccount: acct, Context: c,
		IdentityPolicies: role.Policies, ResourcePolicy: b.ps.Resource[resource], What: what,
	}
}

// keyUse is a request to use a key through a service, on a role's behalf:
// the role's identity policy and the key policy both decide (KMS
// Developer Guide, "Key policies in AWS KMS": a key policy that lets the
// account's IAM policies decide, and a statement of the role's that allows
// the use).
func (b onBehalf) keyUse(role *Role, action, keyARN, service string, extra map[string]any, what string) Request {
	ctx := map[string]any{"kms:ViaService": b.via(service), "kms:CallerAccount": role.Account}
	for k, v := range extra {
		ctx[k] = v
	}
	r := b.roleRequest(role, action, keyARN, ctx, what)
	r.ResourcePolicy = b.key(keyARN)
	return r
}

func (b onBehalf) via(service string) string {
	return fmt.Sprintf("%s.%s.%s", service, b.env.Region, b.env.DNSSuffix)
}

// role is the plan's role of an ARN, nil when the plan has none.
func (b onBehalf) role(arn string) *Role { return b.ps.Roles[arn] }

// assumes checks that service may assume each role roles returns, with the
// keys the service sends (aws:SourceAccount, and aws:SourceArn where the
// role serves one resource).
func (b onBehalf) assumes(name, doc, service string, roles func() map[string]string) Row {
	row := Row{Name: name, Doc: doc}
	principal := b.env.ServicePrincipal(service)
	for arn, source := range roles() {
		role := b.role(arn)
		if role == nil {
			continue
		}
		ctx := map[string]any{"aws:SourceAccount": b.env.AccountID}
		if source != "" {
			ctx["aws:SourceArn"] = source
		}
		r := b.serviceRequest(principal, "sts:AssumeRole", role.ARN, ctx, name+": "+role.Name)
		r.ResourcePolicy = role.Trust
		row.Requests = append(row.Requests, r)
	}
	return row
}

func (b onBehalf) taskRoles() map[string]string {
	out := map[string]string{}
	for _, td := range b.p.OfType("aws:ecs/taskDefinition:TaskDefinition") {
		for _, k := range []string{"executionRoleArn", "taskRoleArn"} {
			if arn := td.String(k); arn != "" {
				out[arn] = ""
			}
		}
	}
	return out
}

func (b onBehalf) functionRoles() map[string]string {
	out := map[string]string{}
	for _, fn := range b.p.OfType("aws:lambda/function:Function") {
		out[fn.String("role")] = ""
	}
	return out
}

func (b onBehalf) rolesOf(typ, key string) func() map[string]string {
	return func() map[string]string {
		out := map[string]string{}
		for _, r := range b.p.OfType(typ) {
			if arn := r.String(key); arn != "" {
				out[arn] = ""
			}
		}
		return out
	}
}

// container is the part of a container definition read here.
type container struct {
	Name    string `json:"name"`
	Secrets []struct {
		Name      string `json:"name"`
		ValueFrom string `json:"valueFrom"`
	} `json:"secrets"`
	LogConfiguration struct {
		LogDriver string            `json:"logDriver"`
		Options   map[string]string `json:"options"`
	} `json:"logConfiguration"`
}

// executionContainers calls fn with each container of each task
// definition and the task's execution role (which ECS uses to start it).
func (b onBehalf) executionContainers(fn func(role *Role, c container)) {
	for _, td := range b.p.OfType("aws:ecs/taskDefinition:TaskDefinition") {
		role := b.role(td.String("executionRoleArn"))
		if role == nil {
			continue
		}
		var cs []container
		_ = json.Unmarshal([]byte(td.String("containerDefinitions")), &cs)
		for _, c := range cs {
			fn(role, c)
		}
	}
}

// secrets: the execution role reads every valueFrom (ECS Developer Guide,
// "Pass sensitive data to an Amazon ECS container": ssm:GetParameters on
// the parameters, secretsmanager:GetSecretValue on the secrets).
func (b onBehalf) secrets() Row {
	row := Row{Name: "the ECS execution role reads each secret of the task definition", Doc: "Amazon ECS Developer Guide, \"Required IAM permissions for Amazon ECS secrets\""}
	b.executionContainers(func(role *Role, c container) {
		for _, s := range c.Secrets {
			action, res := "ssm:GetParameters", s.ValueFrom
			if strings.Contains(res, ":secretsmanager:") {
				action, res = "secretsmanager:GetSecretValue", secretARN(res)
			}
			row.Requests = append(row.Requests, b.roleRequest(role, action, res, nil, c.Name+" "+s.Name))
		}
	})
	return row
}

// secretARN is the secret's ARN in a valueFrom that may name a JSON key
// (<secret arn>:<json key>:<version stage>:<version id>).
func secretARN(valueFrom string) string {
	f := strings.Split(valueFrom, ":")
	if len(f) > 7 {
		f = f[:7]
	}
	return strings.Join(f, ":")
}

// secretKeys: SSM decrypts a SecureString for the caller with the
// parameter's key, kms:ViaService ssm and the parameter's ARN as the
// encryption context ("How AWS Systems Manager Parameter Store uses AWS
// KMS": PARAMETER_ARN).
func (b onBehalf) secretKeys() Row {
	row := Row{Name: "SSM decrypts each SecureString secret for the execution role", Doc: "AWS KMS Developer Guide, \"How AWS Systems Manager Parameter Store uses AWS KMS\""}
	params := map[string]plan.Resource{}
	for _, prm := range b.p.OfType("aws:ssm/parameter:Parameter") {
		params[prm.ARN] = prm
	}
	b.executionContainers(func(role *Role, c container) {
		for _, s := range c.Secrets {
			prm, ok := params[s.ValueFrom]
			if !ok || prm.String("type") != "SecureString" || prm.String("keyId") == "" {
				continue
			}
			row.Requests = append(row.Requests, b.keyUse(role, "kms:Decrypt", prm.String("keyId"), "ssm",
				map[string]any{"kms:EncryptionContext:PARAMETER_ARN": prm.ARN}, c.Name+" "+s.Name))
		}
	})
	return row
}

// taskLogs: the execution role writes the containers' awslogs streams
// (ECS Developer Guide, "Send Amazon ECS logs to CloudWatch").
func (b onBehalf) taskLogs() Row {
	row := Row{Name: "the ECS execution role writes the containers' logs", Doc: "Amazon ECS Developer Guide, \"Amazon ECS task execution IAM role\" (logs:CreateLogStream, logs:PutLogEvents)"}
	b.executionContainers(func(role *Role, c container) {
		if c.LogConfiguration.LogDriver != "awslogs" {
			return
		}
		// Both actions take the stream (Service Authorization Reference,
		// CloudWatch Logs: resource type log-stream).
		stream := b.env.ARN("logs", b.env.Region, b.env.AccountID, "log-group:"+c.LogConfiguration.Options["awslogs-group"]) +
			":log-stream:" + c.LogConfiguration.Options["awslogs-stream-prefix"] + "/" + c.Name + "/0123456789abcdef"
		row.Requests = append(row.Requests,
			b.roleRequest(role, "logs:CreateLogStream", stream, nil, c.Name),
			b.roleRequest(role, "logs:PutLogEvents", stream, nil, c.Name))
	})
	return row
}

// efsMounts: a task mounts its EFS volume with the task role, through the
// access point, over TLS: the task role's policy and the file system
// policy decide (EFS User Guide, "Using IAM to control file system data
// access").
func (b onBehalf) efsMounts() Row {
	row := Row{Name: "tasks mount their EFS volumes through the access point", Doc: "Amazon EFS User Guide, \"Using IAM to control file system data access\" (elasticfilesystem:ClientMount/ClientWrite, AccessPointArn, AccessedViaMountTarget)"}
	for _, td := range b.p.OfType("aws:ecs/taskDefinition:TaskDefinition") {
		role := b.role(td.String("taskRoleArn"))
		if role == nil {
			continue
		}
		for _, v := range td.List("volumes") {
			vol, _ := v.(map[string]any)
			efs, _ := vol["efsVolumeConfiguration"].(map[string]any)
			if efs == nil {
				continue
			}
			fs, ok := b.p.ByID(fmt.Sprint(efs["fileSystemId"]))
			if !ok {
				continue
			}
			ctx := map[string]any{"elasticfilesystem:AccessedViaMountTarget": "true"}
			if auth, _ := efs["authorizationConfig"].(map[string]any); auth != nil {
				if ap, ok := b.p.ByID(fmt.Sprint(auth["accessPointId"])); ok {
					ctx["elasticfilesystem:AccessPointArn"] = ap.ARN
				}
			}
			for _, action := range []string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"} {
				row.Requests = append(row.Requests, b.roleRequest(role, action, fs.ARN, ctx, fmt.Sprint(vol["name"])))
			}
		}
	}
	return row
}

// logKeys: CloudWatch Logs encrypts and decrypts each group's events with
// its key, as the regional logs principal, with the group's ARN as the
// encryption context (CloudWatch Logs User Guide, "Encrypt log data in
// CloudWatch Logs using AWS KMS").
func (b onBehalf) logKeys() Row {
	row := Row{Name: "CloudWatch Logs uses each log group's key", Doc: "Amazon CloudWatch Logs User Guide, \"Encrypt log data in CloudWatch Logs using AWS KMS\" (the key policy names logs.<region>.amazonaws.com, kms:EncryptionContext:aws:logs:arn)"}
	principal := b.env.RegionalServicePrincipal("logs")
	for _, lg := range b.p.OfType("aws:cloudwatch/logGroup:LogGroup") {
		key := lg.String("kmsKeyId")
		if key == "" {
			continue
		}
		for _, action := range []string{"kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"} {
			r := b.serviceRequest(principal, action, key, map[string]any{"kms:EncryptionContext:aws:logs:arn": lg.ARN}, lg.String("name"))
			delete(r.Context, "aws:SourceAccount")
			row.Requests = append(row.Requests, r)
		}
	}
	return row
}

// topicKey is the key of an SNS topic of the plan, "" when it has none.
func (b onBehalf) topicKey(topicARN string) string {
	for _, t := range b.p.OfType("aws:sns/topic:Topic") {
		if t.ARN == topicARN {
			return t.String("kmsMasterKeyId")
		}
	}
	return ""
}

// publishAsService is a service principal publishing to an encrypted
// topic: sns:Publish under the topic policy, and the topic key's Decrypt
// and GenerateDataKey under the key policy (SNS Developer Guide, "Enable
// compatibility between event sources from AWS services and encrypted
// topics").
func (b onBehalf) publishAsService(service, topic, source, what string) []Request {
	ctx := map[string]any{"aws:SourceArn": source}
	out := []Request{b.serviceRequest(service, "sns:Publish", topic, ctx, what)}
	if key := b.topicKey(topic); key != "" {
		for _, action := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
			out = append(out, b.serviceRequest(service, action, key, ctx, what+" (topic key)"))
		}
	}
	return out
}

func (b onBehalf) isTopic(arn string) bool {
	for _, t := range b.p.OfType("aws:sns/topic:Topic") {
		if t.ARN == arn {
			return true
		}
	}
	return false
}

func (b onBehalf) alarmsPublish() Row {
	row := Row{Name: "CloudWatch alarms publish to their encrypted topics", Doc: "Amazon SNS Developer Guide, \"Enable compatibility between event sources from AWS services and encrypted topics\"; CloudWatch User Guide, \"Using Amazon CloudWatch alarms\" (cloudwatch.amazonaws.com, aws:SourceArn of the alarm)"}
	principal := b.env.ServicePrincipal("cloudwatch")
	for _, a := range b.p.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		alarm := b.env.ARN("cloudwatch", b.env.Region, b.env.AccountID, "alarm:"+a.String("name"))
		seen := map[string]bool{}
		for _, k := range []string{"alarmActions", "okActions", "insufficientDataActions"} {
			for _, t := range a.List(k) {
				topic, _ := t.(string)
				if seen[topic] || !b.isTopic(topic) {
					continue
				}
				seen[topic] = true
				row.Requests = append(row.Requests, b.publishAsService(principal, topic, alarm, a.String("name"))...)
			}
		}
	}
	return row
}

func (b onBehalf) rulesPublish() Row {
	row := Row{Name: "EventBridge rules publish to their encrypted topics", Doc: "Amazon EventBridge User Guide, \"Using resource-based policies for Amazon EventBridge: Amazon SNS permissions\" (events.amazonaws.com, aws:SourceArn of the rule)"}
	principal := b.env.ServicePrincipal("events")
	for _, t := range b.p.OfType("aws:cloudwatch/eventTarget:EventTarget") {
		topic := t.String("arn")
		if !b.isTopic(topic) {
			continue
		}
		rule := b.env.ARN("events", b.env.Region, b.env.AccountID, "rule/"+t.String("rule"))
		if bus := t.String("eventBusName"); bus != "" && bus != "default" {
			rule = b.env.ARN("events", b.env.Region, b.env.AccountID, "rule/"+bus+"/"+t.String("rule"))
		}
		row.Requests = append(row.Requests, b.publishAsService(principal, topic, rule, t.String("rule"))...)
	}
	return row
}

// queueKey is the key of an SQS queue of the plan.
func (b onBehalf) queueKey(arn string) string {
	for _, q := range b.p.OfType("aws:sqs/queue:Queue") {
		if q.ARN == arn {
			return q.String("kmsMasterKeyId")
		}
	}
	return ""
}

// sendToQueue is a role sending to an encrypted queue: sqs:SendMessage and
// the queue key's GenerateDataKey and Decrypt through SQS (SQS Developer
// Guide, "Key management": a producer needs both).
func (b onBehalf) sendToQueue(role *Role, queue, what string) []Request {
	out := []Request{b.roleRequest(role, "sqs:SendMessage", queue, nil, what)}
	if key := b.queueKey(queue); key != "" {
		for _, action := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
			out = append(out, b.keyUse(role, action, key, "sqs", nil, what+" (queue key)"))
		}
	}
	return out
}

func (b onBehalf) scheduler() Row {
	row := Row{Name: "EventBridge Scheduler starts the state machine", Doc: "Amazon EventBridge Scheduler User Guide, \"Set up the execution role\" (scheduler.amazonaws.com, aws:SourceAccount; states:StartExecution; sqs:SendMessage to the dead-letter queue)"}
	principal := b.env.ServicePrincipal("scheduler")
	for _, s := range b.p.OfType("aws:scheduler/schedule:Schedule") {
		target, _ := s.Inputs["target"].(map[string]any)
		roleARN, _ := target["roleArn"].(string)
		role := b.role(roleARN)
		if role == nil {
			continue
		}
		group := s.String("groupName")
		if group == "" {
			group = "default"
		}
		schedule := b.env.ARN("scheduler", b.env.Region, b.env.AccountID, "schedule/"+group+"/"+s.String("name"))
		assume := b.serviceRequest(principal, "sts:AssumeRole", role.ARN, map[string]any{"aws:SourceArn": schedule}, s.String("name"))
		assume.ResourcePolicy = role.Trust
		row.Requests = append(row.Requests, assume)
		if sm, _ := target["arn"].(string); sm != "" {
			row.Requests = append(row.Requests, b.roleRequest(role, "states:StartExecution", sm, nil, s.String("name")))
		}
		if dl, _ := target["deadLetterConfig"].(map[string]any); dl != nil {
			if q, _ := dl["arn"].(string); q != "" {
				row.Requests = append(row.Requests, b.sendToQueue(role, q, s.String("name")+" dead letters")...)
			}
		}
	}
	return row
}

func (b onBehalf) stateMachine() Row {
	row := Row{Name: "the state machine's role invokes each function", Doc: "AWS Step Functions Developer Guide, \"IAM policies for invoking AWS Lambda functions\" and \"Cross-service confused deputy prevention\" (states.amazonaws.com, aws:SourceArn of the state machine)"}
	principal := b.env.ServicePrincipal("states")
	for _, sm := range b.p.OfType("aws:sfn/stateMachine:StateMachine") {
		role := b.role(sm.String("roleArn"))
		if role == nil {
			continue
		}
		assume := b.serviceRequest(principal, "sts:AssumeRole", role.ARN, map[string]any{"aws:SourceArn": sm.ARN}, sm.String("name"))
		assume.ResourcePolicy = role.Trust
		row.Requests = append(row.Requests, assume)
		var def any
		_ = json.Unmarshal([]byte(sm.String("definition")), &def)
		for _, fn := range lambdaResources(def) {
			row.Requests = append(row.Requests, b.roleRequest(role, "lambda:InvokeFunction", fn, nil, sm.String("name")))
		}
	}
	return row
}

// lambdaResources are the function ARNs a state machine definition's Task
// states invoke.
func lambdaResources(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && (k == "Resource" || k == "FunctionName") && strings.Contains(s, ":lambda:") && strings.Contains(s, ":function:") {
				out = append(out, s)
				continue
			}
			out = append(out, lambdaResources(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, lambdaResources(e)...)
		}
	}
	return out
}

func (b onBehalf) functionLogs() Row {
	row := Row{Name: "each function writes its log group", Doc: "AWS Lambda Developer Guide, \"Sending Lambda function logs to CloudWatch Logs\" (logs:CreateLogStream, logs:PutLogEvents)"}
	for _, fn := range b.p.OfType("aws:lambda/function:Function") {
		role := b.role(fn.String("role"))
		if role == nil {
			continue
		}
		lc, _ := fn.Inputs["loggingConfig"].(map[string]any)
		name, _ := lc["logGroup"].(string)
		if name == "" {
			name = "/aws/lambda/" + fn.String("name")
		}
		stream := b.env.ARN("logs", b.env.Region, b.env.AccountID, "log-group:"+name) + ":log-stream:2026/12/04/[$LATEST]0123456789abcdef"
		row.Requests = append(row.Requests,
			b.roleRequest(role, "logs:CreateLogStream", stream, nil, fn.String("name")),
			b.roleRequest(role, "logs:PutLogEvents", stream, nil, fn.String("name")))
	}
	return row
}

func (b onBehalf) deadLetters() Row {
	row := Row{Name: "each function's role writes its dead-letter queue", Doc: "AWS Lambda Developer Guide, \"Adding a dead-letter queue\" (the execution role needs sqs:SendMessage; with an encrypted queue, its key)"}
	for _, fn := range b.p.OfType("aws:lambda/function:Function") {
		role := b.role(fn.String("role"))
		dl, _ := fn.Inputs["deadLetterConfig"].(map[string]any)
		q, _ := dl["targetArn"].(string)
		if role == nil || q == "" {
			continue
		}
		row.Requests = append(row.Requests, b.sendToQueue(role, q, fn.String("name"))...)
	}
	return row
}

// tableKeys: DynamoDB uses a table's customer managed key with the
// caller's permissions (DynamoDB Developer Guide, "How Amazon DynamoDB
// uses AWS KMS": kms:Decrypt, kms:DescribeKey through DynamoDB).
func (b onBehalf) tableKeys() Row {
	row := Row{Name: "DynamoDB uses the tables' key for the functions", Doc: "Amazon DynamoDB Developer Guide, \"DynamoDB encryption at rest: how DynamoDB uses AWS KMS\""}
	keys := map[string]bool{}
	for _, t := range b.p.OfType("aws:dynamodb/table:Table") {
		sse, _ := t.Inputs["serverSideEncryption"].(map[string]any)
		if k, _ := sse["kmsKeyArn"].(string); k != "" {
			keys[k] = true
		}
	}
	for key := range keys {
		for _, fn := range b.p.OfType("aws:lambda/function:Function") {
			role := b.role(fn.String("role"))
			if role == nil {
				continue
			}
			for _, action := range []string{"kms:Decrypt", "kms:DescribeKey"} {
				row.Requests = append(row.Requests, b.keyUse(role, action, key, "dynamodb", nil, fn.String("name")))
			}
		}
	}
	return row
}

// topicKeys: SNS encrypts a message published to an encrypted topic with
// the publisher's permissions on the topic key (SNS Developer Guide,
// "Encryption at rest: key management").
func (b onBehalf) topicKeys() Row {
	row := Row{Name: "SNS encrypts the report's messages with the topic key", Doc: "Amazon SNS Developer Guide, \"Managing Amazon SNS encryption keys and costs\" (a publisher needs kms:GenerateDataKey* and kms:Decrypt)"}
	for _, fn := range b.p.OfType("aws:lambda/function:Function") {
		role := b.role(fn.String("role"))
		env, _ := fn.Inputs["environment"].(map[string]any)
		vars, _ := env["variables"].(map[string]any)
		if role == nil || vars == nil {
			continue
		}
		for _, k := range []string{"SUMMARY_TOPIC_ARN", "OWNER_TOPIC_ARN"} {
			topic, _ := vars[k].(string)
			key := b.topicKey(topic)
			if key == "" {
				continue
			}
			row.Requests = append(row.Requests, b.roleRequest(role, "sns:Publish", topic, nil, fn.String("name")))
			for _, action := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
				row.Requests = append(row.Requests, b.keyUse(role, action, key, "sns", nil, fn.String("name")+" "+k))
			}
		}
	}
	return row
}

func (b onBehalf) flowLogs() Row {
	row := Row{Name: "VPC Flow Logs deliver with the flow-log role", Doc: "Amazon VPC User Guide, \"IAM role for publishing flow logs to CloudWatch Logs\" (vpc-flow-logs.amazonaws.com, aws:SourceAccount, aws:SourceArn)"}
	principal := b.env.ServicePrincipal("vpc-flow-logs")
	for _, fl := range b.p.OfType("aws:ec2/flowLog:FlowLog") {
		role := b.role(fl.String("iamRoleArn"))
		if role == nil {
			continue
		}
		source := b.env.ARN("ec2", b.env.Region, b.env.AccountID, "vpc-flow-log/"+fl.ID)
		assume := b.serviceRequest(principal, "sts:AssumeRole", role.ARN, map[string]any{"aws:SourceArn": source}, fl.Name)
		assume.ResourcePolicy = role.Trust
		stream := fl.String("logDestination") + ":log-stream:eni-0123456789abcdef0-all"
		row.Requests = append(row.Requests, assume,
			b.roleRequest(role, "logs:CreateLogStream", stream, nil, fl.Name),
			b.roleRequest(role, "logs:PutLogEvents", stream, nil, fl.Name),
			b.roleRequest(role, "logs:DescribeLogGroups", "*", nil, fl.Name))
	}
	return row
}

// elbLogAccounts are the Regions' Elastic Load Balancing accounts that
// write access logs ("Enable access logs for your Application Load
// Balancer", ELB User Guide), for the Regions the stacks use.
var elbLogAccounts = map[string]string{"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-2": "797873946194", "eu-west-1": "156460612806"}

func (b onBehalf) accessLogs() Row {
	row := Row{Name: "Elastic Load Balancing writes the access logs", Doc: "Elastic Load Balancing User Guide, \"Enable access logs for your Application Load Balancer\" (the Region's ELB account, s3:PutObject under <prefix>/AWSLogs/<account>/)"}
	writer := "arn:" + b.env.Partition + ":iam::" + elbLogAccounts[b.env.Region] + ":root"
	for _, lb := range b.p.OfType("aws:lb/loadBalancer:LoadBalancer") {
		al, _ := lb.Inputs["accessLogs"].(map[string]any)
		if al == nil || al["enabled"] != true {
			continue
		}
		bucket, _ := al["bucket"].(string)
		prefix, _ := al["prefix"].(string)
		obj := fmt.Sprintf("arn:%s:s3:::%s/%s/AWSLogs/%s/elasticloadbalancing/%s/2026/12/04/log.gz", b.env.Partition, bucket, prefix, b.env.AccountID, b.env.Region)
		// The writer's own account grants it s3:PutObject (AWS's side);
		// the bucket policy is the stack's to get right.
		r := Request{
			Principal: writer, Action: "s3:PutObject", Resource: obj, ResourceAccount: b.env.AccountID,
			Context:          map[string]any{"aws:SecureTransport": "true"},
			IdentityPolicies: []NamedPolicy{{Name: "elb-log-delivery", Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`)}},
			ResourcePolicy:   b.ps.Resource[fmt.Sprintf("arn:%s:s3:::%s", b.env.Partition, bucket)],
			What:             lb.Name,
		}
		row.Requests = append(row.Requests, r)
	}
	return row
}

func (b onBehalf) configDelivery() Row {
	row := Row{Name: "AWS Config delivers to its bucket", Doc: "AWS Config Developer Guide, \"Permissions for the Amazon S3 bucket for the AWS Config delivery channel\" (config.amazonaws.com, aws:SourceAccount, s3:x-amz-acl bucket-owner-full-control)"}
	principal := b.env.ServicePrincipal("config")
	for _, dc := range b.p.OfType("aws:cfg/deliveryChannel:DeliveryChannel") {
		bucket := dc.String("s3BucketName")
		if bucket == "" {
			continue
		}
		arn := fmt.Sprintf("arn:%s:s3:::%s", b.env.Partition, bucket)
		prefix := dc.String("s3KeyPrefix")
		if prefix != "" {
			prefix += "/"
		}
		obj := fmt.Sprintf("%s/%sAWSLogs/%s/Config/%s/2026/12/4/ConfigSnapshot/x.json.gz", arn, prefix, b.env.AccountID, b.env.Region)
		row.Requests = append(row.Requests,
			b.serviceRequest(principal, "s3:GetBucketAcl", arn, nil, dc.Name),
			b.serviceRequest(principal, "s3:ListBucket", arn, nil, dc.Name),
			b.serviceRequest(principal, "s3:PutObject", obj, map[string]any{"s3:x-amz-acl": "bucket-owner-full-control"}, dc.Name))
		for i := range row.Requests {
			if strings.HasPrefix(row.Requests[i].Resource, arn) {
				row.Requests[i].ResourcePolicy = b.ps.Resource[arn]
			}
		}
	}
	return row
}
