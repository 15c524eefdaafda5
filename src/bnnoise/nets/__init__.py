"""The networks: CIFAR ResNets, VGGs and plain CNNs, their normalizers, BN folding."""
