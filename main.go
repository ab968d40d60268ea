// Command wordpress-ecs is the Pulumi program: WordPress on ECS Fargate and
// the nightly restart of every ECS service of the fleet.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/platform"
)

func main() { pulumi.Run(platform.Deploy) }
