package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// interfaceServices are the endpoints ECS tasks and the bastion need to
// work without the NAT: Session Manager (ssm, ssmmessages, ec2messages),
// image pulls (ecr.api, ecr.dkr; layers come through the S3 gateway) and
// task logs.
var interfaceServices = []string{"ssm", "ssmmessages", "ec2messages", "ecr.api", "ecr.dkr", "logs"}

// interfaceEndpoints declares the private endpoints in the private subnets
// behind a security group that admits HTTPS from inside the VPC only.
func interfaceEndpoints(ctx *pulumi.Context, name string, args NetworkArgs, vpc *ec2.Vpc, private []*ec2.Subnet, tags func(string) pulumi.StringMap, parent pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	sgName := name + "-endpoints"
	sg, err := ec2.NewSecurityGroup(ctx, sgName, &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("HTTPS from inside the VPC to the AWS service endpoints"),
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Description: pulumi.String("HTTPS from the VPC"),
			Protocol:    pulumi.String("tcp"),
			FromPort:    pulumi.Int(443),
			ToPort:      pulumi.Int(443),
			CidrBlocks:  pulumi.StringArray{pulumi.String(args.CIDR)},
		}},
		// Endpoints answer; they never open connections.
		Egress: ec2.SecurityGroupEgressArray{},
		Tags:   tags(sgName),
	}, parent)
	if err != nil {
		return nil, err
	}
	subnets := make(pulumi.StringArray, len(private))
	for i, s := range private {
		subnets[i] = s.ID().ToStringOutput()
	}
	for _, svc := range interfaceServices {
		en := fmt.Sprintf("%s-%s", name, svc)
		if _, err := ec2.NewVpcEndpoint(ctx, en, &ec2.VpcEndpointArgs{
			VpcId:             vpc.ID(),
			ServiceName:       pulumi.String(fmt.Sprintf("com.amazonaws.%s.%s", args.Region, svc)),
			VpcEndpointType:   pulumi.String("Interface"),
			PrivateDnsEnabled: pulumi.Bool(true),
			SubnetIds:         subnets,
			SecurityGroupIds:  pulumi.StringArray{sg.ID().ToStringOutput()},
			Tags:              tags(en),
		}, parent); err != nil {
			return nil, err
		}
	}
	return sg, nil
}
