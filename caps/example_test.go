package caps_test

import (
	"fmt"

	"github.com/paddock-sandbox/paddock/caps"
)

func Example() {
	// Docker's default set without raw sockets, granted to a non-root program through the
	// ambient set.
	s := caps.SpecFromSet(caps.DockerDefault.Drop(caps.NetRaw))
	s.Inheritable = []string{"net_bind_service"}
	s.Ambient = []string{"CAP_NET_BIND_SERVICE"}
	sets, err := s.Sets()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sets.Bounding.Len(), sets.Bounding.Has(caps.NetRaw))
	fmt.Println(sets.Ambient)

	// The kernel refuses an ambient capability that is not inheritable; so does Validate.
	s.Ambient = append(s.Ambient, "KILL")
	fmt.Println(s.Validate())
	// Output:
	// 13 false
	// CAP_NET_BIND_SERVICE
	// capabilities: ambient: CAP_KILL: not in inheritable
}
