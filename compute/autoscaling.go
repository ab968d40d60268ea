package compute

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/appautoscaling"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// autoscale registers the service with Application Auto Scaling and keeps
// it near a CPU target and near a number of load balancer requests per
// task, whichever asks for more tasks.
func autoscale(ctx *pulumi.Context, name string, a AutoscalingArgs, cluster, svc pulumi.StringOutput, lb *loadBalancer, parent pulumi.ResourceOption) error {
	target, err := appautoscaling.NewTarget(ctx, name, &appautoscaling.TargetArgs{
		ServiceNamespace:  pulumi.String("ecs"),
		ScalableDimension: pulumi.String("ecs:service:DesiredCount"),
		ResourceId:        pulumi.Sprintf("service/%s/%s", cluster, svc),
		MinCapacity:       pulumi.Int(a.MinCapacity),
		MaxCapacity:       pulumi.Int(a.MaxCapacity),
	}, parent)
	if err != nil {
		return err
	}
	policy := func(suffix, metric string, targetValue int, label pulumi.StringPtrInput) error {
		_, err := appautoscaling.NewPolicy(ctx, name+"-"+suffix, &appautoscaling.PolicyArgs{
			PolicyType:        pulumi.String("TargetTrackingScaling"),
			ServiceNamespace:  target.ServiceNamespace,
			ScalableDimension: target.ScalableDimension,
			ResourceId:        target.ResourceId,
			TargetTrackingScalingPolicyConfiguration: &appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs{
				TargetValue: pulumi.Float64(float64(targetValue)),
				PredefinedMetricSpecification: &appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs{
					PredefinedMetricType: pulumi.String(metric),
					ResourceLabel:        label,
				},
				// Out fast, in slowly: a WordPress task takes a minute or
				// two to be healthy.
				ScaleOutCooldown: pulumi.Int(60),
				ScaleInCooldown:  pulumi.Int(300),
			},
		}, parent)
		return err
	}
	if err := policy("cpu", "ECSServiceAverageCPUUtilization", a.CPUTargetPercent, nil); err != nil {
		return err
	}
	// The resource label is "<load balancer arn suffix>/<target group arn
	// suffix>" (Application Auto Scaling API, PredefinedMetricSpecification).
	label := pulumi.Sprintf("%s/%s", lb.ARNSuffix, lb.TargetGroupARNSuffix)
	return policy("requests", "ALBRequestCountPerTarget", a.RequestsPerTarget, label)
}
