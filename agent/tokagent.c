/* placeholder until the agent lands */
int main(void);
int
main(void)
{
	return 1;
}
