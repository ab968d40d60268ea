package fleet

// Image is one container's image in a service revision: the reference
// the task definition names and the digest ECS resolved it to for the
// deployment ("Container image resolution", Amazon ECS Developer Guide: a
// deployment resolves a tag once, so a tag pushed again is picked up by
// the next deployment, a forced one included).
type Image struct {
	Container string `json:"container"`
	Image     string `json:"image"`
	Digest    string `json:"digest,omitempty"`
}

// Revision is what a service ran at one time: its ECS service revision,
// task definition and images. Any field may be empty when ECS did not say.
type Revision struct {
	ARN            string  `json:"arn,omitempty"`
	TaskDefinition string  `json:"taskDefinition,omitempty"`
	Images         []Image `json:"images,omitempty"`
}

// Digests returns the revision's image digests, in container order.
func (r Revision) Digests() []string {
	var out []string
	for _, im := range r.Images {
		out = append(out, im.Digest)
	}
	return out
}
