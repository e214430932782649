from gankit.cli.main import main

main()
