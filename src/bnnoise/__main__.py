from bnnoise.cli import main

main()
