# tests/vfido
