// Placeholder while sluice-control is written (replaced before merge).
int main() { return 1; }
