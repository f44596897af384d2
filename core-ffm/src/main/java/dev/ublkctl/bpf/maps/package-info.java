/** BPF maps living in the VM ({@link dev.ublkctl.bpf.maps.VmMap}) and the shared map type enum. */
package dev.ublkctl.bpf.maps;
