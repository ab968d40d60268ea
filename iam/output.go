package iam

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Output is the document's JSON, built once the outputs it names (ARNs of
// resources declared in the same program) are known: build receives their
// values in the order given.
func Output(build func(values []string) Policy, inputs ...pulumi.StringInput) pulumi.StringOutput {
	all := make([]any, len(inputs))
	for i, in := range inputs {
		all[i] = in
	}
	return pulumi.All(all...).ApplyT(func(vals []any) (string, error) {
		strs := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case string:
				strs[i] = x
			case pulumi.ID: // an IDOutput's value
				strs[i] = string(x)
			}
		}
		return build(strs).JSON()
	}).(pulumi.StringOutput)
}
