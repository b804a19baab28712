from .load import main

main()
