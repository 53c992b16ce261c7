//go:build !amd64

package initelf

const callArch = 0

var callList []Call
