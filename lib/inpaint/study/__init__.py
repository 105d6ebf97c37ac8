"""The study: profiles (settings), the GANs it evaluates, the fills it compares, experiments,
statistics, the chapters' registry and tables, findings and plots."""
