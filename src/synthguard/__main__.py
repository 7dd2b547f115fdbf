from synthguard.cli import main

raise SystemExit(main())
